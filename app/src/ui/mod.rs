//! The small view pieces every page uses: errors, loading, form errors,
//! text areas, titles, the 404 page.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;

use crate::error::AppError;

mod copy;
pub use copy::CopyButton;
pub mod kept;
pub use kept::{typed, typed_at};

/// Shows an error; an expired or missing session leads to the login page.
/// With `page`, the error is the page's own (it could not load what the
/// address names, or the role may not use it): the response carries the
/// error's status (404, 403, …) instead of 200. Panels within a page leave
/// the page's status alone.
#[component]
pub fn ErrorView(err: AppError, #[prop(optional)] page: bool) -> impl IntoView {
    if page && err != AppError::Unauthenticated {
        set_status(err.status());
    }
    if err == AppError::Unauthenticated {
        let next = current_path();
        let path = format!("/login?next={}", crate::format::query_value(&next));
        return view! { <Redirect path /> }.into_any();
    }
    view! {
        <div class="notice notice-error" role="alert">
            <p>{err.to_string()}</p>
        </div>
    }
    .into_any()
}

/// The path of the page being rendered, read once (not tracked).
///
/// Views inside a `Suspend` render after an await, and by then the client
/// may have gone (a closed tab, the end of a load test): the request's
/// reactive owner is disposed and its contexts with it. `use_location`
/// `expect`s the router's context and so panicked there in the server's
/// log; this looks up the request's address (on the server) or the
/// browser's (in the client) and gives "" when it is gone. The page then
/// goes nowhere, so any path will do.
pub fn current_path() -> String {
    #[cfg(feature = "ssr")]
    let url = use_context::<leptos_router::location::RequestUrl>().and_then(|u| u.parse().ok());
    #[cfg(not(feature = "ssr"))]
    let url = {
        use leptos_router::location::LocationProvider as _;
        use_context::<leptos_router::location::BrowserUrl>()
            .and_then(|b| b.as_url().try_get_untracked())
    };
    url.map(|u| u.path().to_owned()).unwrap_or_default()
}

/// The error of the last submission of a form, if any, as a summary that
/// takes the focus when the page comes back (and so is in view, wherever
/// the form stands) and links to the field the error is about. The field
/// shows the message too, through [`FieldError`] and [`invalid`].
///
/// The same without JavaScript: a refused form post comes back with the
/// error in its address, and `autofocus` does what a script would.
///
/// The link goes to the element whose id is `prefix` + the field's name
/// (the measure's `body`, the customer form's `cu-name`); forms repeated on
/// one page, whose fields' ids the summary cannot know, pass `unlinked`.
#[component]
pub fn FormError<T, S>(
    value: S,
    /// What the form's field ids start with (see [`FieldError`]).
    #[prop(optional)]
    prefix: &'static str,
    /// The message without a link to its field.
    #[prop(optional)]
    unlinked: bool,
) -> impl IntoView
where
    T: Send + Sync + Clone + 'static,
    S: Get<Value = Option<Result<T, AppError>>> + Send + Sync + 'static,
{
    move || {
        value.get().and_then(|r| r.err()).map(|e| {
            let message = e.to_string();
            let body = match e.field().filter(|_| !unlinked) {
                Some(field) => {
                    view! { <a href=format!("#{prefix}{field}")>{message}</a> }.into_any()
                }
                None => view! { <span>{message}</span> }.into_any(),
            };
            view! { <ErrorSummary>{body}</ErrorSummary> }
        })
    }
}

/// The summary of a refused form: it takes the focus when the page comes
/// back (so it is in view and read out, with or without JavaScript). For
/// a form that comes back with `?fehler=…` in its address, as the plain
/// form routes answer; [`FormError`] uses it for the server functions.
#[component]
pub fn ErrorSummary(
    /// What did not happen; "Nicht gespeichert:" unless given.
    #[prop(into, optional)]
    title: Option<&'static str>,
    children: Children,
) -> impl IntoView {
    view! {
        <div class="form-error error-summary" role="alert" tabindex="-1" autofocus data-test="error-summary">
            <p class="error-summary-title">{title.unwrap_or("Nicht gespeichert:")}</p>
            <p>{children()}</p>
        </div>
    }
}

/// The error a plain form route sent the browser back with: `?fehler=`
/// and, when it is about one field, `&feld=` (see `http::form_answer`).
/// What [`FormError`] and [`FieldError`] are for server functions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub message: String,
    pub field: Option<String>,
}

impl Refused {
    /// The error in the page's address, if any.
    pub fn in_address() -> Option<Self> {
        let query = leptos_router::hooks::use_query_map();
        query.with_untracked(|q| {
            q.get("fehler").map(|message| Self {
                message,
                field: q.get("feld").filter(|f| !f.is_empty()),
            })
        })
    }

    /// Whether the error is about `field`.
    pub fn at(&self, field: &str) -> bool {
        self.field.as_deref() == Some(field)
    }
}

/// Whether `refused` is about `field`: for the field's `aria-invalid`.
pub fn refused_at(refused: &Option<Refused>, field: &str) -> bool {
    refused.as_ref().is_some_and(|r| r.at(field))
}

/// The summary of a plain route's refusal, linked to its field when the
/// page's form has it: `targets` pairs field names with their element ids.
#[component]
pub fn RefusedSummary(
    refused: Refused,
    #[prop(optional)] targets: Vec<(&'static str, String)>,
    #[prop(into, optional)] title: Option<&'static str>,
) -> impl IntoView {
    let target = refused
        .field
        .as_deref()
        .and_then(|f| targets.iter().find(|(name, _)| *name == f))
        .map(|(_, id)| id.clone());
    let body = match target {
        Some(id) => view! { <a href=format!("#{id}")>{refused.message}</a> }.into_any(),
        None => view! { <span>{refused.message}</span> }.into_any(),
    };
    view! { <ErrorSummary title=title.unwrap_or("Nicht gespeichert:")>{body}</ErrorSummary> }
}

/// A plain route's refusal at the field it is about; its id is the
/// field's id + `-error` (what [`refused_described_by`] points to).
#[component]
pub fn RefusedField(
    refused: Option<Refused>,
    field: &'static str,
    #[prop(into)] id: String,
) -> impl IntoView {
    refused.filter(|r| r.at(field)).map(|r| {
        view! {
            <p class="field-error" id=format!("{id}-error") data-test="field-error">
                {r.message}
            </p>
        }
    })
}

/// The `aria-describedby` of the field with `id` while `refused` is about it.
pub fn refused_described_by(refused: &Option<Refused>, field: &str, id: &str) -> Option<String> {
    refused_at(refused, field).then(|| format!("{id}-error"))
}

/// Whether the last submission failed on `field`: for the field's
/// `aria-invalid` (use with [`described_by`] and [`FieldError`]).
pub fn invalid<T>(value: &Option<Result<T, AppError>>, field: &str) -> bool {
    matches!(value, Some(Err(e)) if e.field() == Some(field))
}

/// The `aria-describedby` of a field while it is invalid: its [`FieldError`].
pub fn described_by<T>(value: &Option<Result<T, AppError>>, field: &str) -> Option<String> {
    described_by_in(value, "", field)
}

/// [`described_by`] for a form whose field ids start with `prefix`.
pub fn described_by_in<T>(
    value: &Option<Result<T, AppError>>,
    prefix: &str,
    field: &str,
) -> Option<String> {
    invalid(value, field).then(|| format!("{prefix}{field}-error"))
}

/// The message of the last submission's error, at the field it is about;
/// the field's id is `prefix` + its name, and the message's id that id
/// + `-error` (what [`TextArea`] and [`described_by_in`] point to).
#[component]
pub fn FieldError<T, S>(
    value: S,
    field: &'static str,
    #[prop(optional)] prefix: &'static str,
) -> impl IntoView
where
    T: Send + Sync + Clone + 'static,
    S: Get<Value = Option<Result<T, AppError>>> + Send + Sync + 'static,
{
    move || {
        value
            .get()
            .and_then(|r| r.err())
            .filter(|e| e.field() == Some(field))
            .map(|e| {
                view! {
                    <p class="field-error" id=format!("{prefix}{field}-error") data-test="field-error">
                        {e.to_string()}
                    </p>
                }
            })
    }
}

/// The confirmation after a save: a status message that assistive
/// technology reads out and that stands where the person looks.
#[component]
pub fn Saved(#[prop(into)] text: String) -> impl IntoView {
    view! {
        <p class="notice success" role="status" data-test="saved">
            {text}
        </p>
    }
}

/// What an input refuses besides emptiness: text of nothing but spaces
/// (`pattern` is anchored; the server refuses the same).
pub const NOT_BLANK: &str = r".*\S.*";

/// Plain text with blank-line separated paragraphs; never interpreted as HTML.
#[component]
pub fn Paragraphs(text: String) -> impl IntoView {
    text.split("\n\n")
        .map(|p| p.trim().to_owned())
        .filter(|p| !p.is_empty())
        .map(|p| view! { <p>{p}</p> })
        .collect_view()
}

/// Loads what a page shows about the measure in its address: no valid id
/// there is "not found", like an unknown one. The measure page and each of
/// its panels fetch through this.
pub async fn for_measure<T, Fut>(
    id: Option<crate::ids::MeasureId>,
    load: impl FnOnce(crate::ids::MeasureId) -> Fut,
) -> Result<T, AppError>
where
    Fut: std::future::Future<Output = Result<T, AppError>>,
{
    match id {
        Some(id) => load(id).await,
        None => Err(AppError::NotFound("Die Maßnahme".into())),
    }
}

/// A destructive action behind a second, explicit step, with and without
/// JavaScript: the summary names the action; opened, it says what will
/// happen and holds the form whose button confirms (`children`).
#[component]
pub fn Confirm(
    /// What the first click says, e.g. "Außer Kraft setzen".
    #[prop(into)]
    action: String,
    /// What will happen, in a sentence.
    #[prop(into)]
    consequence: String,
    children: Children,
) -> impl IntoView {
    view! {
        <details class="confirm">
            <summary class="danger">{action}</summary>
            <div class="confirm-body">
                <p>{consequence}</p>
                {children()}
            </div>
        </details>
    }
}

/// The first option of a select that must be chosen on purpose: nothing is
/// preselected, and a `required` select refuses it (in the browser; the
/// server refuses an empty value too).
#[component]
pub fn ChooseOption() -> impl IntoView {
    view! {
        <option value="" selected disabled>
            "— auswählen —"
        </option>
    }
}

/// The HTTP status of the page being rendered (on the server; in the
/// browser there is no response to set).
fn set_status(status: u16) {
    #[cfg(feature = "ssr")]
    if let Some(resp) = use_context::<leptos_axum::ResponseOptions>()
        && let Ok(status) = axum::http::StatusCode::from_u16(status)
    {
        resp.set_status(status);
    }
    #[cfg(not(feature = "ssr"))]
    let _ = status;
}

#[component]
pub fn Loading() -> impl IntoView {
    view! { <p class="loading">"Wird geladen …"</p> }
}

#[component]
pub fn NotFound() -> impl IntoView {
    set_status(404);
    view! {
        <Title text="Seite nicht gefunden" />
        <section class="page narrow">
            <h1>"Seite nicht gefunden"</h1>
            <p>"Diese Seite gibt es nicht (mehr). Vielleicht hilft der Weg zurück zur Startseite."</p>
            <p>
                <a class="button" href="/">
                    "Zur Startseite"
                </a>
            </p>
        </section>
    }
}

/// Text for a `<textarea>` or `<title>`. Leptos writes the children of these
/// raw-text elements to the HTML without escaping, so a stored
/// "</textarea><script>" would break out of the element. On the server the
/// text is escaped here (the browser decodes it back); in the browser it is
/// set as plain text. Pages use [`TextArea`] and [`PageTitle`], which call
/// this; `tests/raw_text.rs` refuses a bare `<textarea>` or `<Title>` with
/// text from data anywhere else.
pub fn textarea_text(text: String) -> String {
    if cfg!(feature = "ssr") {
        escape_raw_text(&text)
    } else {
        text
    }
}

/// `&`, `<` and `>` as character references: the text cannot end the
/// raw-text element it stands in, and the browser shows it unchanged.
pub fn escape_raw_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

/// The one multi-line text field of the app. Its stored text is escaped
/// on the server (see [`textarea_text`]), so no text a user wrote can
/// leave the element, whatever page shows it.
#[component]
pub fn TextArea(
    #[prop(into)] id: String,
    #[prop(into)] name: String,
    /// The text the field starts with (stored data, escaped here).
    #[prop(into, optional)]
    value: String,
    #[prop(optional)] rows: Option<u32>,
    #[prop(optional)] required: bool,
    #[prop(into, optional)] placeholder: Option<String>,
    /// The last submission failed on this field (see [`invalid`]); a
    /// signal where the form stays on the page while its action answers.
    #[prop(into, optional)]
    invalid: MaybeProp<bool>,
) -> impl IntoView {
    let is_invalid = move || invalid.get().unwrap_or(false);
    let error_id = format!("{id}-error");
    let described = move || is_invalid().then(|| error_id.clone());
    view! {
        <textarea
            id=id
            name=name
            rows=rows.map(|r| r.to_string())
            required=required
            placeholder=placeholder
            aria-invalid=move || is_invalid().then_some("true")
            aria-describedby=described
        >
            {textarea_text(value)}
        </textarea>
    }
}

/// The page title (`<title>`), which is raw text like a textarea's: text
/// from data is escaped on the server.
#[component]
pub fn PageTitle(#[prop(into)] text: String) -> impl IntoView {
    view! { <Title text=textarea_text(text) /> }
}

#[cfg(test)]
mod tests {
    use super::escape_raw_text;
    use proptest::prelude::*;

    /// What a browser does with the text of a textarea or title (for the
    /// three references the escaping writes), in one pass.
    fn decode(s: &str) -> String {
        let mut out = String::new();
        let mut rest = s;
        while let Some(i) = rest.find('&') {
            out.push_str(&rest[..i]);
            rest = &rest[i..];
            let (c, len) = if rest.starts_with("&lt;") {
                ('<', 4)
            } else if rest.starts_with("&gt;") {
                ('>', 4)
            } else if rest.starts_with("&amp;") {
                ('&', 5)
            } else {
                ('&', 1)
            };
            out.push(c);
            rest = &rest[len..];
        }
        out.push_str(rest);
        out
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4000))]
        /// Whatever a user stores, the escaped text cannot end the element
        /// (no `<` at all) and reads back unchanged.
        #[test]
        fn escaped_text_cannot_leave_its_element(s in prop_oneof![
            any::<String>(),
            "[<>&/a-z=\"' ]{0,40}",
            "(</textarea>|</title>|<script>|&lt;|&amp;|&|<|>|x){0,12}",
        ]) {
            let e = escape_raw_text(&s);
            prop_assert!(!e.contains('<') && !e.contains('>'), "{e}");
            prop_assert_eq!(decode(&e), s);
        }
    }

    /// The path of the request, and "" (no panic) once the request's owner
    /// is gone while a view that rendered after an await still runs.
    #[cfg(feature = "ssr")]
    #[test]
    fn current_path_survives_the_request_owner() {
        use leptos::prelude::{Owner, provide_context};
        use leptos_router::location::RequestUrl;

        let request = Owner::new();
        let suspended = request.with(|| {
            provide_context(RequestUrl::new("/massnahmen?sort=titel"));
            Owner::current().expect("the owner just set").child()
        });
        assert_eq!(suspended.with(super::current_path), "/massnahmen");
        drop(request);
        assert_eq!(suspended.with(super::current_path), "");
    }
}
