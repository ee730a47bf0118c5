//! The frame of every page: header with navigation by role, the main area.

use leptos::prelude::*;

use leptos::server_fn::ServerFn;

use crate::auth::{Auth, CurrentUser, Logout, SwitchOrg, get_current_user};

#[component]
pub fn Layout(children: Children) -> impl IntoView {
    let epoch = RwSignal::new(0u32);
    let user = Resource::new(move || epoch.get(), |_| get_current_user());
    provide_context(Auth::new(user, epoch));

    view! {
        <a class="skip" href="#main">
            "Zum Inhalt springen"
        </a>
        <header class="top">
            <a class="brand" href="/">
                "Nachweis"
            </a>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    match user.await {
                        Ok(Some(u)) => view! { <Nav user=u /> }.into_any(),
                        _ => ().into_any(),
                    }
                })}
            </Suspense>
        </header>
        <main id="main">{children()}</main>
        <footer class="bottom">
            <p>"Nachweis · Technische und organisatorische Maßnahmen nach Art. 32 DSGVO"</p>
        </footer>
    }
}

/// Signing out and switching the organisation are plain forms, with and
/// without JavaScript: both change every page's data, so the browser loads
/// the page the server redirects to afresh. (They hold no reactive state, so
/// nothing here can outlive a render that was cancelled.)
#[component]
fn Nav(user: CurrentUser) -> impl IntoView {
    let role = user.org.role;
    let other_orgs: Vec<_> = user
        .orgs
        .iter()
        .filter(|o| o.id != user.org.id)
        .cloned()
        .collect();
    view! {
        <nav class="nav" aria-label="Hauptnavigation">
            <a href="/">"Start"</a>
            {role
                .is_internal()
                .then(|| {
                    view! {
                        <a href="/massnahmen">"Maßnahmen"</a>
                        <a href="/unterauftragsverarbeiter">"Unterauftragsverarbeiter"</a>
                        <a href="/organisation">"Organisation"</a>
                    }
                })}
            {role.previews_annex().then(|| view! { <a href="/anlage">"Anlage"</a> <a href="/pruefungen">"Prüfungen"</a> })}
            {(!role.is_internal()).then(|| view! { <a href="/portal">"Anlage TOM"</a> })}
            {role.is_admin().then(|| view! { <a href="/mitglieder">"Mitglieder"</a> <a href="/kunden">"Kunden"</a> <a href="/anmeldedienste">"Anmeldedienste"</a> <a href="/postausgang">"Postausgang"</a> })}
            {role.must_sign_pledge().then(|| view! { <a href="/schulungen">"Schulungen"</a> <a href="/verpflichtung">"Verpflichtung"</a> })}
            {matches!(role, crate::domain::Role::Admin | crate::domain::Role::Auditor).then(|| view! { <a href="/schulungen/uebersicht">"Schulungsstand"</a> <a href="/verpflichtungen">"Verpflichtungen"</a> })}
            {role.reads_audit_log().then(|| view! { <a href="/protokoll">"Protokoll"</a> })}
        </nav>
        <div class="who">
            <span class="who-name">{user.display_name.clone()}</span>
            <span class="who-org">{format!("{} · {}", user.org.legal_name, role.label())}</span>
            {(!other_orgs.is_empty())
                .then(|| {
                    view! {
                        <form method="post" action=SwitchOrg::url() class="inline">
                            <label class="sr-only" for="org-switch">
                                "Organisation wechseln"
                            </label>
                            <select id="org-switch" name="org_id">
                                {other_orgs
                                    .into_iter()
                                    .map(|o| view! { <option value=o.id.to_string()>{o.legal_name}</option> })
                                    .collect_view()}
                            </select>
                            <button type="submit" class="link">
                                "Wechseln"
                            </button>
                        </form>
                    }
                })}
            <form method="post" action=Logout::url() class="inline">
                <button type="submit" class="link" data-test="logout">
                    "Abmelden"
                </button>
            </form>
        </div>
    }
}
