//! The site (WebAssembly, JavaScript, CSS, images) served from inside the
//! binary: copying the one `nachweis` file is a complete install.
//!
//! `scripts/build.sh` writes the site to `target/site` before the server
//! is compiled; the server embeds it (in every profile, so the tests serve
//! what users get). `LEPTOS_SITE_ROOT` (or `site_root` in the configuration
//! file) overrides it with a directory, for working on styles without a
//! rebuild.
//!
//! Every response carries a strong `ETag` (SHA-256 of the content) and
//! answers `If-None-Match` with 304. File names that carry a content hash
//! (`name.0123abcd.ext`) are cached for a year as immutable; the others
//! (leptos asks for `/pkg/nachweis.wasm` by a fixed name) are revalidated
//! on every use, which costs a 304 without a body.
//!
//! The release build writes brotli and gzip copies of the WebAssembly,
//! JavaScript and CSS next to them (`name.br`, `name.gz`); a client that
//! accepts one gets it as it is, with `Content-Encoding` and its own ETag.

use std::path::PathBuf;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Method, Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tower::ServiceExt;

#[derive(rust_embed::RustEmbed)]
#[folder = "../target/site"]
#[allow_missing = true]
struct Embedded;

/// Where the site's files come from.
#[derive(Debug, Clone)]
pub enum Site {
    /// Compiled into this binary.
    Embedded,
    /// A directory the operator named (`LEPTOS_SITE_ROOT`).
    Dir(PathBuf),
}

/// The file the page cannot do without: without it nothing hydrates.
pub const WASM: &str = "pkg/nachweis.wasm";

impl Site {
    pub fn new(dir: Option<PathBuf>) -> Self {
        match dir {
            Some(dir) => Site::Dir(dir),
            None => Site::Embedded,
        }
    }

    /// Whether the WebAssembly is there (a binary compiled before the site
    /// was built serves pages that never hydrate; start-up says so).
    pub fn has_wasm(&self) -> bool {
        match self {
            Site::Embedded => Embedded::get(WASM).is_some(),
            Site::Dir(dir) => dir.join(WASM).is_file(),
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Site::Embedded => "embedded in the binary".into(),
            Site::Dir(dir) => format!("from {}", dir.display()),
        }
    }

    /// The file `req` asks for, or `None` when the site has no such file
    /// (the caller answers with the application's 404 page).
    pub async fn serve(&self, req: Request<Body>) -> Option<Response> {
        if !matches!(*req.method(), Method::GET | Method::HEAD) {
            return None;
        }
        match self {
            Site::Embedded => embedded(req.uri().path(), req.headers(), req.method()),
            Site::Dir(dir) => {
                let res = tower_http::services::ServeDir::new(dir)
                    .oneshot(req)
                    .await
                    .ok()?;
                (res.status() != StatusCode::NOT_FOUND).then(|| res.into_response())
            }
        }
    }
}

fn embedded(path: &str, headers: &HeaderMap, method: &Method) -> Option<Response> {
    let name = path.strip_prefix('/')?;
    if name.is_empty() || name.ends_with('/') {
        return None;
    }
    let original = Embedded::get(name)?;
    // The brotli or gzip copy made at build time, if the client takes it.
    let (file, encoding) = accepted_encodings(headers)
        .into_iter()
        .find_map(|(ext, coding)| Some((Embedded::get(&format!("{name}.{ext}"))?, Some(coding))))
        .unwrap_or((original, None));
    let hash = file.metadata.sha256_hash();
    let etag = format!("\"{}\"", hex::encode(&hash[..16]));
    let cache = if content_hashed(name) {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let matches = headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().trim_start_matches("W/"))
        .any(|t| t == etag || t == "*");
    let mut res = if matches {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let body = if *method == Method::HEAD {
            Body::empty()
        } else {
            Body::from(file.data)
        };
        let mut res = Response::new(body);
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(content_type(name)),
        );
        res
    };
    let h = res.headers_mut();
    if let Some(coding) = encoding {
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static(coding));
    }
    if compressible(name) {
        h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    h.insert(header::ETAG, HeaderValue::from_str(&etag).ok()?);
    Some(res)
}

/// Whether the build writes compressed copies of this file
/// (`scripts/precompress.mjs`).
fn compressible(name: &str) -> bool {
    matches!(
        name.rsplit_once('.').map(|(_, ext)| ext),
        Some("wasm" | "js" | "mjs" | "css" | "svg" | "json" | "txt")
    )
}

/// The precompressed copies the client accepts, best first: (file
/// extension, `Content-Encoding`). A coding with `q=0` is refused.
fn accepted_encodings(headers: &HeaderMap) -> Vec<(&'static str, &'static str)> {
    let accepts = |coding: &str| {
        headers
            .get_all(header::ACCEPT_ENCODING)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|item| {
                let mut parts = item.split(';').map(str::trim);
                parts.next().is_some_and(|c| c.eq_ignore_ascii_case(coding))
                    && parts.all(|p| {
                        p.strip_prefix("q=")
                            .is_none_or(|q| q.parse::<f32>().is_ok_and(|q| q > 0.0))
                    })
            })
    };
    [("br", "br"), ("gz", "gzip")]
        .into_iter()
        .filter(|(_, coding)| accepts(coding))
        .collect()
}

/// The content types the site uses; anything else is served as bytes.
fn content_type(name: &str) -> &'static str {
    match name.rsplit_once('.').map(|(_, ext)| ext) {
        Some("wasm") => "application/wasm",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("woff2") => "font/woff2",
        Some("json") => "application/json",
        Some("txt") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// `name.<8 or more hex digits>.ext`: the name changes with the content.
fn content_hashed(name: &str) -> bool {
    let file = name.rsplit('/').next().unwrap_or(name);
    let parts: Vec<&str> = file.split('.').collect();
    parts.len() >= 3
        && parts[1..parts.len() - 1]
            .iter()
            .any(|p| p.len() >= 8 && p.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_hashed_names_are_immutable() {
        assert!(content_hashed("pkg/nachweis.3f2a9c1d0b.js"));
        assert!(!content_hashed("pkg/nachweis.js"));
        assert!(!content_hashed("pkg/nachweis.wasm"));
        assert!(!content_hashed("favicon.ico"));
        assert!(!content_hashed("a.b.c"));
    }

    #[test]
    fn precompressed_copies_follow_accept_encoding() {
        let with = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::ACCEPT_ENCODING, HeaderValue::from_str(v).unwrap());
            accepted_encodings(&h)
        };
        assert_eq!(
            with("gzip, deflate, br, zstd"),
            [("br", "br"), ("gz", "gzip")]
        );
        assert_eq!(with("gzip"), [("gz", "gzip")]);
        assert_eq!(with("br;q=0, gzip;q=0.5"), [("gz", "gzip")]);
        assert_eq!(with("identity"), []);
        assert!(accepted_encodings(&HeaderMap::new()).is_empty());
        assert!(compressible("pkg/nachweis.wasm") && !compressible("favicon.ico"));
    }

    #[test]
    fn the_webassembly_is_application_wasm() {
        assert_eq!(content_type("pkg/nachweis.wasm"), "application/wasm");
        assert_eq!(content_type("pkg/nachweis.css"), "text/css; charset=utf-8");
        assert_eq!(content_type("unknown"), "application/octet-stream");
    }
}
