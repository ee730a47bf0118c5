//! The login form. Works as a plain form post before hydration.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::ui::{Auth, FormError};

#[component]
pub fn LoginPage() -> impl IntoView {
    let auth = expect_context::<Auth>();
    // Created inside the route so that a no-JS post's error (in the URL) reaches it.
    let login = ServerAction::<super::Login>::new();
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
        </section>
    }
}
