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
    let links = nav_links(role);
    let path = leptos_router::hooks::use_location()
        .pathname
        .get_untracked();
    let current = current_link(&links, &path);
    view! {
        <nav class="nav" aria-label="Hauptnavigation">
            {links
                .into_iter()
                .enumerate()
                .map(|(i, (href, label))| {
                    view! {
                        <a href=href aria-current=(Some(i) == current).then_some("page")>
                            {label}
                        </a>
                    }
                })
                .collect_view()}
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

/// The pages a role may use, in the order of the navigation.
fn nav_links(role: crate::domain::Role) -> Vec<(&'static str, &'static str)> {
    use crate::domain::Role;
    let mut links = vec![("/", "Start")];
    if role.is_internal() {
        links.extend([
            ("/massnahmen", "Maßnahmen"),
            ("/unterauftragsverarbeiter", "Unterauftragsverarbeiter"),
            ("/organisation", "Organisation"),
        ]);
    }
    if role.previews_annex() {
        links.extend([("/anlage", "Anlage"), ("/pruefungen", "Prüfungen")]);
    }
    if !role.is_internal() {
        links.push(("/portal", "Anlage TOM"));
    }
    if role.is_admin() {
        links.extend([
            ("/mitglieder", "Mitglieder"),
            ("/kunden", "Kunden"),
            ("/anmeldedienste", "Anmeldedienste"),
            ("/postausgang", "Postausgang"),
        ]);
    }
    if role.must_sign_pledge() {
        links.extend([
            ("/schulungen", "Schulungen"),
            ("/verpflichtung", "Verpflichtung"),
        ]);
    }
    if matches!(role, Role::Admin | Role::Auditor) {
        links.extend([
            ("/schulungen/uebersicht", "Schulungsstand"),
            ("/verpflichtungen", "Verpflichtungen"),
        ]);
    }
    if role.reads_audit_log() {
        links.push(("/protokoll", "Protokoll"));
    }
    links
}

/// The link of the page at `path` (`aria-current`): the one whose address
/// is the path or its longest leading part (`/massnahmen/12` is under
/// "Maßnahmen", `/schulungen/uebersicht` is "Schulungsstand", not
/// "Schulungen").
fn current_link(links: &[(&str, &str)], path: &str) -> Option<usize> {
    links
        .iter()
        .enumerate()
        .filter(|(_, (href, _))| {
            path == *href
                || (*href != "/"
                    && path
                        .strip_prefix(href)
                        .is_some_and(|rest| rest.starts_with('/')))
        })
        .max_by_key(|(_, (href, _))| href.len())
        .map(|(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::{current_link, nav_links};
    use crate::domain::Role;

    #[test]
    fn the_current_page_is_the_longest_matching_link() {
        let links = nav_links(Role::Admin);
        let label = |path: &str| current_link(&links, path).map(|i| links[i].1);
        assert_eq!(label("/"), Some("Start"));
        assert_eq!(label("/massnahmen"), Some("Maßnahmen"));
        assert_eq!(label("/massnahmen/12"), Some("Maßnahmen"));
        assert_eq!(label("/schulungen/uebersicht"), Some("Schulungsstand"));
        assert_eq!(label("/massnahmenliste"), None);
        assert_eq!(label("/gibt-es-nicht"), None);
    }

    #[test]
    fn each_role_sees_its_own_links() {
        let hrefs = |role| {
            nav_links(role)
                .into_iter()
                .map(|(h, _)| h)
                .collect::<Vec<_>>()
        };
        assert_eq!(hrefs(Role::Customer), ["/", "/portal"]);
        assert!(!hrefs(Role::Staff).contains(&"/mitglieder"));
        assert!(hrefs(Role::Admin).contains(&"/protokoll"));
    }
}
