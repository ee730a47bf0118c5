//! The login form. Works as a plain form post before hydration.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::auth::Auth;
use crate::ui::FormError;

#[component]
pub fn LoginPage() -> impl IntoView {
    let auth = expect_context::<Auth>();
    // Created inside the route so that a no-JS post's error (in the URL) reaches it.
    let login = ServerAction::<crate::auth::Login>::new();
    let link = ServerAction::<crate::customers::RequestLoginLink>::new();
    auth.refresh_on_success(login.value());
    let query = use_query_map();
    let next = move || query.with(|q| q.get("next").unwrap_or_default());
    view! {
        <Title text="Anmelden" />
        <section class="page narrow login">
            <h1>"Anmelden"</h1>
            <p class="muted">"Melden Sie sich mit Ihrer E-Mail-Adresse und Ihrem Passwort an."</p>
            <ActionForm action=login attr:class="form">
                <input type="hidden" name="next" value=next />
                <label for="email">"E-Mail-Adresse"</label>
                <input id="email" type="email" name="email" autocomplete="username" required autofocus />
                <label for="password">"Passwort"</label>
                <input id="password" type="password" name="password" autocomplete="current-password" required />
                <FormError value=login.value() />
                <button type="submit" class="button primary">
                    "Anmelden"
                </button>
            </ActionForm>
            <section class="sso">
                <h2>"Mit Single Sign-on anmelden"</h2>
                <p class="muted">
                    "Ihr Unternehmen meldet Sie selbst an (z. B. mit Microsoft Entra ID)? Geben Sie Ihre geschäftliche E-Mail-Adresse ein."
                </p>
                // A plain GET to a page of links: a form may only lead to this site (CSP form-action).
                <form method="get" action="/sso" class="form">
                    <input type="hidden" name="next" value=next />
                    <label for="sso-email">"Geschäftliche E-Mail für Single Sign-on"</label>
                    <input id="sso-email" type="email" name="email" autocomplete="email" required />
                    <button type="submit" class="button">"Weiter mit Single Sign-on"</button>
                </form>
            </section>
            <section class="login-link">
                <h2>"Anmeldelink per E-Mail"</h2>
                <p class="muted">
                    "Für Ansprechpartner unserer Kunden ohne Single Sign-on: Wir senden einen Link an Ihre hinterlegte Adresse. Er gilt einmal und 30 Minuten lang."
                </p>
                <ActionForm action=link attr:class="form">
                    <label for="link-email">"Hinterlegte E-Mail für den Anmeldelink"</label>
                    <input id="link-email" type="email" name="email" autocomplete="email" required />
                    <FormError value=link.value() prefix="link-" />
                    <button type="submit" class="button">"Anmeldelink senden"</button>
                </ActionForm>
                {move || {
                    (matches!(link.value().get(), Some(Ok(())))
                        || query.with(|q| q.get("anmeldelink").is_some()))
                        .then(|| {
                            view! {
                                <p role="status">
                                    "Wenn die Adresse bei uns hinterlegt ist, ist ein Anmeldelink unterwegs. Bitte sehen Sie in Ihr Postfach."
                                </p>
                            }
                        })
                }}
            </section>
        </section>
    }
}
