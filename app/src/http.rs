//! What every plain axum route shares (platform): an [`AppError`] as a
//! response, the session's actor or the way to the login page, the answer
//! to a form post, downloads, and the small result pages outside the Leptos
//! app. Each concept's own routes sit in its `http.rs` with a `routes()`
//! the server merges.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use leptos::prelude::*;

use crate::auth::service::{Actor, actor_for_session};
use crate::error::AppError;
use crate::format::query_value;
use crate::state::AppState;

/// The status an error answers with (see [`AppError::status`]).
pub fn status_of(e: &AppError) -> StatusCode {
    StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// An error for a plain route: its status and its message as text (the
/// message names nothing internal, see [`AppError::internal`]).
impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        (status_of(&self), self.to_string()).into_response()
    }
}

/// Whether the client asked for JSON (scripts and the hydrated page) rather
/// than a page (a form posted without JavaScript).
pub fn wants_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json"))
}

/// The error as JSON with its status, for clients that asked for JSON.
pub fn json_error(e: AppError) -> Response {
    (status_of(&e), axum::Json(e)).into_response()
}

/// The actor of the session, or a redirect to the login page that comes
/// back to `back` (a path of this site).
pub async fn actor_or_login(
    state: &AppState,
    session: &tower_sessions::Session,
    back: &str,
) -> Result<Actor, Response> {
    match actor_for_session(state, session).await {
        Ok(actor) => Ok(actor),
        Err(AppError::Unauthenticated) => {
            Err(Redirect::to(&format!("/login?next={}", query_value(back))).into_response())
        }
        Err(e) => Err(e.into_response()),
    }
}

/// What a form post did, for both kinds of client: the JSON a script gets
/// and the page a browser is sent to.
pub struct Done {
    pub json: serde_json::Value,
    pub then: String,
}

/// The one answer to a form post. JSON for a client that asked for it (the
/// result, or the error with its status). A browser is sent on to
/// [`Done::then`]; on an error it goes back to `back` with the message in
/// `?fehler=` and the field it is about, if any, in `&feld=` (the page
/// shows both through `ui::Refused`), except for "not found", which has
/// nothing to go back to.
pub fn form_answer(headers: &HeaderMap, back: &str, result: Result<Done, AppError>) -> Response {
    match (wants_json(headers), result) {
        (true, Ok(done)) => axum::Json(done.json).into_response(),
        (true, Err(e)) => json_error(e),
        (false, Ok(done)) => Redirect::to(&done.then).into_response(),
        (false, Err(e @ AppError::NotFound(_))) => e.into_response(),
        (false, Err(e)) => {
            let back = with_query(back, "fehler", &e.to_string());
            let back = match e.field() {
                Some(field) => with_query(&back, "feld", field),
                None => back,
            };
            Redirect::to(&back).into_response()
        }
    }
}

/// `path?name=value`, the value percent-encoded; a `#fragment` of the
/// path stays at the end.
pub fn with_query(path: &str, name: &str, value: &str) -> String {
    let (path, fragment) = path
        .split_once('#')
        .map_or((path, None), |(p, f)| (p, Some(f)));
    let sep = if path.contains('?') { '&' } else { '?' };
    let fragment = fragment.map(|f| format!("#{f}")).unwrap_or_default();
    format!("{path}{sep}{name}={}{fragment}", query_value(value))
}

/// A posted form as its pairs, in order: a name may repeat (check boxes).
pub type Fields = Vec<(String, String)>;

/// The first value posted under `name`, or "".
pub fn form_field<'a>(fields: &'a Fields, name: &str) -> &'a str {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_default()
}

/// Every value posted under `name`, as ids; one that is not is refused.
pub fn field_ids<T: std::str::FromStr>(fields: &Fields, name: &str) -> Result<Vec<T>, AppError> {
    fields
        .iter()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| {
            v.trim()
                .parse::<T>()
                .map_err(|_| AppError::BadRequest(format!("{name}: keine Nummer")))
        })
        .collect()
}

/// How long a browser may keep a download.
#[derive(Debug, Clone, Copy)]
pub enum Caching {
    /// Never stored (drafts, reports that change).
    NoStore,
    /// Stored for the signed-in person, revalidated every time.
    Private,
}

/// A file to download: its type, the name it is saved under, and an ETag
/// (the SHA-256 of stored bytes) where the bytes never change.
pub struct Download {
    pub content_type: &'static str,
    pub file_name: String,
    /// `inline` (shown in the browser) rather than `attachment`.
    pub inline: bool,
    pub sha256: Option<String>,
    pub caching: Caching,
}

impl Download {
    pub fn pdf(file_name: impl Into<String>) -> Self {
        Self {
            content_type: "application/pdf",
            file_name: file_name.into(),
            inline: false,
            sha256: None,
            caching: Caching::Private,
        }
    }

    pub fn csv(file_name: impl Into<String>) -> Self {
        Self {
            content_type: "text/csv; charset=utf-8",
            caching: Caching::NoStore,
            ..Self::pdf(file_name)
        }
    }

    /// An Excel workbook (XLSX).
    pub fn xlsx(file_name: impl Into<String>) -> Self {
        Self {
            content_type: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            caching: Caching::NoStore,
            ..Self::pdf(file_name)
        }
    }

    pub fn inline(self) -> Self {
        Self {
            inline: true,
            ..self
        }
    }

    pub fn sha256(self, sha256: impl Into<String>) -> Self {
        Self {
            sha256: Some(sha256.into()),
            ..self
        }
    }

    pub fn caching(self, caching: Caching) -> Self {
        Self { caching, ..self }
    }

    fn etag(&self) -> Option<String> {
        self.sha256.as_ref().map(|s| format!("\"{s}\""))
    }

    /// Whether the client already holds these bytes (`If-None-Match`).
    pub fn unchanged_for(&self, headers: &HeaderMap) -> bool {
        let Some(etag) = self.etag() else {
            return false;
        };
        headers
            .get(header::IF_NONE_MATCH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"))
    }

    /// `304 Not Modified` with the same validators.
    pub fn not_modified(&self) -> Response {
        let mut res = StatusCode::NOT_MODIFIED.into_response();
        self.put_headers(res.headers_mut(), false);
        res
    }

    /// The bytes with their headers.
    pub fn respond(&self, bytes: impl Into<axum::body::Body>) -> Response {
        let mut res = Response::new(bytes.into());
        self.put_headers(res.headers_mut(), true);
        res
    }

    fn put_headers(&self, h: &mut HeaderMap, content: bool) {
        if content {
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(self.content_type),
            );
            let kind = if self.inline { "inline" } else { "attachment" };
            // File names are ours (ASCII, no quotes); anything else is dropped.
            let name: String = self
                .file_name
                .chars()
                .filter(|c| c.is_ascii_graphic() && !matches!(c, '"' | '\\'))
                .collect();
            if let Ok(v) = HeaderValue::from_str(&format!("{kind}; filename=\"{name}\"")) {
                h.insert(header::CONTENT_DISPOSITION, v);
            }
        }
        if let Some(etag) = self.etag().and_then(|e| HeaderValue::from_str(&e).ok()) {
            h.insert(header::ETAG, etag);
        }
        h.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static(match self.caching {
                Caching::NoStore => "no-store",
                Caching::Private => "private, no-cache",
            }),
        );
    }
}

/// A table as CSV for spreadsheets (German Excel: `;` between fields, one
/// line per row, fields quoted where needed by the `csv` crate). A field
/// that starts like a formula (`=`, `+`, `-`, `@`) gets a leading `'`, so a
/// spreadsheet shows it as text instead of running it.
pub fn csv<R, F>(header: &[&str], rows: R) -> String
where
    R: IntoIterator<Item = Vec<F>>,
    F: AsRef<str>,
{
    let mut out = csv_rows([header.to_vec()]);
    out.push_str(&csv_rows(rows));
    out
}

/// Rows of a [`csv`] file without its header, for a file written in parts.
/// A field a spreadsheet would read as a formula is prefixed with `'`.
pub fn csv_rows<R, F>(rows: R) -> String
where
    R: IntoIterator<Item = Vec<F>>,
    F: AsRef<str>,
{
    let guard = |s: &str| {
        if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
            format!("'{s}")
        } else {
            s.to_owned()
        }
    };
    let mut w = ::csv::WriterBuilder::new()
        .delimiter(b';')
        .terminator(::csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    // Writing to a Vec cannot fail, and every field is valid UTF-8.
    for row in rows {
        let _ = w.write_record(row.iter().map(|f| guard(f.as_ref())));
    }
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}

/// What a result page offers besides the way back to the login.
pub enum Action {
    None,
    /// Buttons that are links: (href, label).
    Links(Vec<(String, String)>),
    /// One button posting a form to `action` with hidden fields.
    Post {
        action: String,
        hidden: Vec<(&'static str, String)>,
        label: String,
    },
}

/// The page for an unexpected failure during a sign-in: it names only an
/// operation id, which the server log has with the cause.
pub fn signin_failed(e: impl std::fmt::Display) -> Response {
    let op = match AppError::internal(format!("sign-in failed: {e}")) {
        AppError::Internal(op) => op,
        _ => String::new(),
    };
    ResultPage::signin(
        "Interner Fehler",
        &format!(
            "Bei der Anmeldung ist ein interner Fehler aufgetreten (Vorgang {op}). Bitte versuchen Sie es erneut."
        ),
        "An internal error occurred during sign-in. Please try again.",
    )
    .respond(StatusCode::INTERNAL_SERVER_ERROR)
}

/// A small page outside the Leptos app (single sign-on, login links,
/// uploads without JavaScript): a title, a German text with an English
/// line, what the person can do next and the way back. Rendered from view
/// markup like every page of the app, so every value is escaped by
/// construction.
pub struct ResultPage<'a> {
    pub title: &'a str,
    pub de: &'a str,
    pub en: &'a str,
    pub action: Action,
    /// The way back: (href, label).
    pub back: (&'static str, &'static str),
}

/// The way back from sign-in pages.
pub const TO_LOGIN: (&str, &str) = ("/login", "Zur Anmeldung");

impl ResultPage<'_> {
    /// A sign-in result page: no action, back to the login.
    pub fn signin<'a>(title: &'a str, de: &'a str, en: &'a str) -> ResultPage<'a> {
        ResultPage {
            title,
            de,
            en,
            action: Action::None,
            back: TO_LOGIN,
        }
    }

    pub fn action(self, action: Action) -> Self {
        Self { action, ..self }
    }

    pub fn respond(self, status: StatusCode) -> Response {
        let mut res = (status, Html(self.html())).into_response();
        res.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        res
    }

    fn html(self) -> String {
        let ResultPage {
            title,
            de,
            en,
            action,
            back: (back_href, back_label),
        } = self;
        let action = match action {
        Action::None => ().into_any(),
        Action::Links(links) => view! {
            <ul class="sso-choices">
                {links
                    .into_iter()
                    .map(|(href, label)| view! { <li><a class="button primary" href=href>{label}</a></li> })
                    .collect_view()}
            </ul>
        }
        .into_any(),
        Action::Post {
            action,
            hidden,
            label,
        } => view! {
            <form method="post" action=action>
                {hidden
                    .into_iter()
                    .map(|(name, value)| view! { <input type="hidden" name=name value=value /> })
                    .collect_view()}
                <button type="submit" class="button primary">{label}</button>
            </form>
        }
        .into_any(),
    };
        let page = view! {
            <html lang="de">
                <head>
                    <meta charset="utf-8" />
                    <meta name="viewport" content="width=device-width, initial-scale=1" />
                    <title>{format!("{title} – Nachweis")}</title>
                    <link rel="stylesheet" href="/pkg/nachweis.css" />
                </head>
                <body>
                    <main class="page narrow sso-result">
                        <h1>{title.to_owned()}</h1>
                        <p>{de.to_owned()}</p>
                        <p class="muted" lang="en">{en.to_owned()}</p>
                        {action}
                        <p><a class="button" href=back_href>{back_label}</a></p>
                    </main>
                </body>
            </html>
        };
        format!("<!DOCTYPE html>{}", page.to_html())
    }
}

pub use kept_forms::{KeptForms, keep_refused_forms};

/// Keeps what was typed into a refused form for the page it returns to
/// (see [`crate::ui::kept`], which the pages read it through).
mod kept_forms {
    use axum::body::Body;
    use axum::extract::{Request, State};
    use axum::http::{Method, StatusCode, header};
    use axum::middleware::Next;
    use axum::response::{IntoResponse, Response};
    use tower_sessions::Session;

    use crate::auth::service::session_owner;
    use crate::ui::kept::KeptForm;

    /// The session key of the one kept form.
    const KEY: &str = "kept_form";

    /// The most a kept form may hold, in bytes of its values: a larger
    /// post is not kept (the session row stays small).
    const MAX_KEPT: usize = 256 * 1024;

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
            // Only a signed-in person's post, and only a bounded one: a
            // post without a session (refused as unauthenticated) must not
            // make the server store what it sent.
            let size: usize = fields.iter().map(|(k, v)| k.len() + v.len()).sum();
            if refused(&res)
                && size <= MAX_KEPT
                && let Some((user, org)) = session_owner(&session).await
            {
                let kept = KeptForm {
                    owner: (user.0, org.0),
                    action,
                    fields,
                };
                if let Err(e) = session.insert(KEY, kept).await {
                    tracing::warn!("a refused form's input could not be kept: {e}");
                }
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
                // The page shows it only to whoever typed it, in the
                // organisation they typed it in (a sign-in or a switch of
                // organisation in between drops it).
                Ok(Some(kept)) => {
                    let owner = session_owner(&session).await.map(|(u, o)| (u.0, o.0));
                    if owner == Some(kept.owner) {
                        req.extensions_mut().insert(kept);
                    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn result_pages_escape_every_value() {
        let evil = "\"><script>alert(1)</script>";
        for action in [
            Action::Post {
                action: format!("/x{evil}"),
                hidden: vec![("token", evil.to_owned())],
                label: evil.to_owned(),
            },
            Action::Links(vec![(format!("/y{evil}"), evil.to_owned())]),
        ] {
            let html = ResultPage::signin(evil, evil, evil).action(action).html();
            assert!(!html.contains("<script"), "{html}");
            assert!(html.contains("&lt;script&gt;"), "{html}");
            assert!(
                html.contains("/x&quot;&gt;") || html.contains("/y&quot;&gt;"),
                "{html}"
            );
        }
    }

    #[test]
    fn csv_quotes_what_needs_it_and_defuses_formulas() {
        let out = csv(
            &["Name", "Stand"],
            [
                vec!["Schulz; Mia", "verpflichtet"],
                vec!["=HYPERLINK(\"x\")", "Zeile\nzwei"],
            ],
        );
        assert_eq!(
            out,
            "Name;Stand\n\"Schulz; Mia\";verpflichtet\n\"'=HYPERLINK(\"\"x\"\")\";\"Zeile\nzwei\"\n"
        );
        // A tab or carriage return ahead of a formula is defused too.
        assert_eq!(csv_rows([vec!["\t=1+1"]]), "'\t=1+1\n");
    }

    #[test]
    fn queries_append_and_encode() {
        assert_eq!(with_query("/a", "fehler", "x & y"), "/a?fehler=x%20%26%20y");
        assert_eq!(with_query("/a?b=1", "ok", "ä"), "/a?b=1&ok=%C3%A4");
        assert_eq!(
            with_query("/kunden?kunde=3#kunde-3", "fehler", "x"),
            "/kunden?kunde=3&fehler=x#kunde-3"
        );
    }
}
