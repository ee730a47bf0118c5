//! Layout, navigation and the small view pieces every page uses.

mod home;
mod layout;
pub use home::HomePage;
pub use layout::{Auth, Layout};

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;
use leptos_router::hooks::use_location;

use crate::error::AppError;

/// Formats a timestamp for German readers in German local time.
#[cfg(feature = "ssr")]
pub fn format_datetime(at: chrono::DateTime<chrono::Utc>) -> String {
    at.with_timezone(&chrono_tz::Europe::Berlin)
        .format("%d.%m.%Y %H:%M")
        .to_string()
}

/// Shows an error; an expired or missing session leads to the login page.
#[component]
pub fn ErrorView(err: AppError) -> impl IntoView {
    if err == AppError::Unauthenticated {
        let loc = use_location();
        let next = loc.pathname.get_untracked();
        let path = format!("/login?next={}", urlencode(&next));
        return view! { <Redirect path /> }.into_any();
    }
    view! {
        <div class="notice notice-error" role="alert">
            <p>{err.to_string()}</p>
        </div>
    }
    .into_any()
}

/// Percent-encodes all but unreserved characters (and `/`), for query strings.
pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The error of the last submission of a form, if any.
#[component]
pub fn FormError<T, S>(value: S) -> impl IntoView
where
    T: Send + Sync + Clone + 'static,
    S: Get<Value = Option<Result<T, AppError>>> + Send + Sync + 'static,
{
    move || {
        value.get().and_then(|r| r.err()).map(|e| {
            view! {
                <p class="form-error" role="alert">
                    {e.to_string()}
                </p>
            }
        })
    }
}

/// Plain text with blank-line separated paragraphs; never interpreted as HTML.
#[component]
pub fn Paragraphs(text: String) -> impl IntoView {
    text.split("\n\n")
        .map(|p| p.trim().to_owned())
        .filter(|p| !p.is_empty())
        .map(|p| view! { <p>{p}</p> })
        .collect_view()
}

#[component]
pub fn Loading() -> impl IntoView {
    view! { <p class="loading">"Wird geladen …"</p> }
}

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    {
        if let Some(resp) = use_context::<leptos_axum::ResponseOptions>() {
            resp.set_status(axum::http::StatusCode::NOT_FOUND);
        }
    }
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
/// set as plain text.
pub fn textarea_text(text: String) -> String {
    if cfg!(feature = "ssr") {
        text.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    } else {
        text
    }
}
