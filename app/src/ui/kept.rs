//! What someone typed into a form the server refused, kept for the page the
//! form comes back to.
//!
//! A refused form post (a server function's or a plain form route's) is
//! answered with a redirect back to the page, the error in the address
//! (`__err`, `fehler`). The page then renders the stored data again, so
//! whatever was typed would be gone: a DPO who rewrote a measure and met a
//! version conflict would have to write it again. For the forms the server
//! names (plain text only: no passwords, no tokens), [`keep_refused_forms`]
//! keeps the posted fields in the session for the next page view that
//! shows an error, and the form's fields start from them through [`typed`].
//!
//! Only a refused post is kept, and the page that shows its error takes it
//! out of the session again; a page view without an error touches nothing.
//! The same with and without JavaScript: outside the islands, every form
//! posts and comes back.

use leptos::prelude::*;

/// The posted fields of one refused form and where it was posted to.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct KeptForm {
    /// The path the form posted to (a server function's `PATH`, or a plain
    /// route such as `/kunden/3/angaben`).
    pub action: String,
    /// The posted pairs, in order (a name may repeat: check boxes).
    pub fields: Vec<(String, String)>,
}

impl KeptForm {
    /// The first value posted under `field`.
    pub fn get(&self, field: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == field)
            .map(|(_, v)| v.as_str())
    }

    /// Every value posted under `field`.
    pub fn all(&self, field: &str) -> Vec<&str> {
        self.fields
            .iter()
            .filter(|(k, _)| k == field)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

/// The refused form posted to `action`, when the page being rendered shows
/// its error; `None` in the browser and for every other page view.
pub fn kept(action: &str) -> Option<KeptForm> {
    #[cfg(feature = "ssr")]
    {
        use_context::<axum::http::request::Parts>()
            .and_then(|parts| parts.extensions.get::<KeptForm>().cloned())
            .filter(|k| k.action == action)
    }
    #[cfg(not(feature = "ssr"))]
    {
        let _ = action;
        None
    }
}

/// What was typed into `field` of the refused form posted to the server
/// function `S`, else `stored` (what the field shows otherwise).
pub fn typed<S: server_fn::ServerFn>(field: &str, stored: String) -> String {
    typed_at(S::PATH, field, stored)
}

/// [`typed`] for a plain form route posted to `action`.
pub fn typed_at(action: &str, field: &str, stored: String) -> String {
    kept(action)
        .and_then(|k| k.get(field).map(str::to_owned))
        .unwrap_or(stored)
}

#[cfg(feature = "ssr")]
pub use middleware::{KeptForms, keep_refused_forms};

#[cfg(feature = "ssr")]
mod middleware {
    use axum::body::Body;
    use axum::extract::{Request, State};
    use axum::http::{Method, StatusCode, header};
    use axum::middleware::Next;
    use axum::response::{IntoResponse, Response};
    use tower_sessions::Session;

    use super::KeptForm;

    /// The session key of the one kept form.
    const KEY: &str = "kept_form";

    /// The forms whose refused posts are kept: server function paths and
    /// plain routes, where `*` stands for one path segment (an id).
    #[derive(Debug, Clone, Copy)]
    pub struct KeptForms(pub &'static [&'static str]);

    impl KeptForms {
        fn covers(&self, path: &str) -> bool {
            self.0.iter().any(|pattern| matches(pattern, path))
        }
    }

    fn matches(pattern: &str, path: &str) -> bool {
        let mut p = pattern.split('/');
        let mut s = path.split('/');
        loop {
            match (p.next(), s.next()) {
                (None, None) => return true,
                (Some("*"), Some(seg)) if !seg.is_empty() => {}
                (Some(a), Some(b)) if a == b => {}
                _ => return false,
            }
        }
    }

    /// Whether an answer sends the browser back with an error in the address.
    fn refused(res: &Response) -> bool {
        res.status().is_redirection()
            && res
                .headers()
                .get(header::LOCATION)
                .and_then(|l| l.to_str().ok())
                .is_some_and(has_error)
    }

    /// Whether an address carries a refused form's error.
    fn has_error(uri: &str) -> bool {
        uri.split_once('?')
            .map(|(_, q)| q)
            .unwrap_or_default()
            .split(['&', '#'])
            .any(|pair| pair.starts_with("__err=") || pair.starts_with("fehler="))
    }

    /// The middleware (inside the session layer, inside the body limits):
    /// keeps the fields of a refused post to one of the [`KeptForms`], and
    /// hands them to the page view that shows the error (as a request
    /// extension, which the page reads through [`super::kept`]).
    pub async fn keep_refused_forms(
        State(forms): State<KeptForms>,
        session: Session,
        req: Request,
        next: Next,
    ) -> Response {
        let is_form = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        if req.method() == Method::POST && is_form && forms.covers(req.uri().path()) {
            let action = req.uri().path().to_owned();
            let (parts, body) = req.into_parts();
            // The body limit stands outside: a body over it fails here.
            let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
                return StatusCode::PAYLOAD_TOO_LARGE.into_response();
            };
            let fields: Vec<(String, String)> = url::form_urlencoded::parse(&bytes)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
            let res = next
                .run(Request::from_parts(parts, Body::from(bytes)))
                .await;
            if refused(&res)
                && let Err(e) = session.insert(KEY, KeptForm { action, fields }).await
            {
                tracing::warn!("a refused form's input could not be kept: {e}");
            }
            return res;
        }
        let mut req = req;
        if req.method() == Method::GET
            && req
                .uri()
                .path_and_query()
                .is_some_and(|pq| has_error(pq.as_str()))
        {
            match session.remove::<KeptForm>(KEY).await {
                Ok(Some(kept)) => {
                    req.extensions_mut().insert(kept);
                }
                Ok(None) => {}
                Err(e) => tracing::warn!("a refused form's input could not be read: {e}"),
            }
        }
        next.run(req).await
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn patterns_match_whole_segments() {
            assert!(matches("/api/avv/save", "/api/avv/save"));
            assert!(!matches("/api/avv/save", "/api/avv/save/x"));
            assert!(matches("/kunden/*/angaben", "/kunden/12/angaben"));
            assert!(!matches("/kunden/*/angaben", "/kunden//angaben"));
            assert!(!matches("/kunden/*/angaben", "/kunden/12/kontakte"));
        }

        #[test]
        fn errors_are_found_in_the_query_only() {
            assert!(has_error("/massnahmen/3?__path=/api/x&__err=abc"));
            assert!(has_error("/kunden?fehler=Fehlt#kunde-3"));
            assert!(!has_error("/fehler=x"));
            assert!(!has_error("/kunden?gespeichert=1"));
            assert!(!has_error("/kunden?xfehler=1"));
        }
    }
}
