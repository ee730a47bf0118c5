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
    let groups = nav_groups(role);
    let links = nav_links(role);
    // Built inside a `Suspend` after an await (see `current_path`).
    let path = crate::ui::current_path();
    let current = current_link(&links, &path).map(|i| links[i].0);
    // Below about 700 px the navigation folds behind a menu button: a check
    // box and its label, so it opens and closes without JavaScript too.
    view! {
        <input type="checkbox" id="menu-toggle" class="menu-toggle" aria-controls="hauptnavigation" />
        <label for="menu-toggle" class="menu-button">
            "Menü"
        </label>
        <nav class="nav" id="hauptnavigation" aria-label="Hauptnavigation">
            {groups
                .into_iter()
                .enumerate()
                .map(|(g, (name, links))| {
                    let here = links.iter().any(|(href, _)| Some(*href) == current);
                    let items = links
                        .into_iter()
                        .map(|(href, label)| {
                            view! {
                                <li>
                                    <a href=href aria-current=(Some(href) == current).then_some("page")>
                                        {label}
                                    </a>
                                </li>
                            }
                        })
                        .collect_view();
                    match name {
                        None => view! { <ul class="nav-group nav-single">{items}</ul> }.into_any(),
                        Some(name) => {
                            let id = format!("nav-group-{g}");
                            let labelled_by = id.clone();
                            view! {
                                <div class=if here { "nav-group here" } else { "nav-group" } role="group" aria-labelledby=labelled_by>
                                    <span class="nav-group-label" id=id>
                                        {name}
                                    </span>
                                    <ul>{items}</ul>
                                </div>
                            }
                                .into_any()
                        }
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

/// A group of the navigation: its name (none for "Start") and its links.
type NavGroup = (Option<&'static str>, Vec<(&'static str, &'static str)>);

/// The pages a role may use, in groups, in the order of the navigation;
/// groups without a page for the role are left out.
fn nav_groups(role: crate::domain::Role) -> Vec<NavGroup> {
    use crate::domain::Role;
    let internal = role.is_internal();
    let admin = role.is_admin();
    let people = matches!(role, Role::Admin | Role::Auditor);
    let pick = |links: &[(bool, &'static str, &'static str)]| -> Vec<(&'static str, &'static str)> {
        links
            .iter()
            .filter(|(may, ..)| *may)
            .map(|(_, href, label)| (*href, *label))
            .collect()
    };
    let groups: Vec<NavGroup> = vec![
        (
            None,
            pick(&[
                (internal, "/", "Start"),
                (!internal, "/portal", "Anlage TOM"),
            ]),
        ),
        (
            Some("Meine Aufgaben"),
            pick(&[
                (role.must_sign_pledge(), "/schulungen", "Schulungen"),
                (role.must_sign_pledge(), "/verpflichtung", "Verpflichtung"),
            ]),
        ),
        (
            Some("Katalog"),
            pick(&[
                (internal, "/massnahmen", "Maßnahmen"),
                (role.previews_annex(), "/anlage", "Anlage"),
            ]),
        ),
        (
            Some("Nachweise & Prüfungen"),
            pick(&[
                (role.previews_annex(), "/pruefungen", "Prüfungen"),
                (
                    internal,
                    "/unterauftragsverarbeiter",
                    "Unterauftragsverarbeiter",
                ),
                (role.reads_audit_log(), "/protokoll", "Protokoll"),
            ]),
        ),
        (
            Some("Personen"),
            pick(&[
                (admin, "/mitglieder", "Mitglieder"),
                (people, "/schulungen/uebersicht", "Schulungsstand"),
                (people, "/verpflichtungen", "Verpflichtungen"),
            ]),
        ),
        (
            Some("Kunden & Portal"),
            pick(&[
                (admin, "/kunden", "Kunden"),
                (role.reads_contracts(), "/avv", "AVV-Vertragstext"),
                (role.reads_contracts(), "/avv-abschluss", "AVV-Abschluss"),
                (admin, "/anmeldedienste", "Anmeldedienste"),
            ]),
        ),
        (
            Some("Einstellungen"),
            pick(&[
                (internal, "/organisation", "Organisation"),
                (admin, "/postausgang", "Postausgang"),
            ]),
        ),
    ];
    groups.into_iter().filter(|(_, l)| !l.is_empty()).collect()
}

/// Every link of the navigation, in order.
fn nav_links(role: crate::domain::Role) -> Vec<(&'static str, &'static str)> {
    nav_groups(role).into_iter().flat_map(|(_, l)| l).collect()
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
        // Customers have the portal and nothing else ("/" leads there).
        assert_eq!(hrefs(Role::Customer), ["/portal"]);
        assert!(!hrefs(Role::Staff).contains(&"/mitglieder"));
        assert!(hrefs(Role::Admin).contains(&"/protokoll"));
        assert!(!hrefs(Role::Auditor).contains(&"/schulungen"));
        assert!(hrefs(Role::Auditor).contains(&"/schulungen/uebersicht"));
        // The DPO's sixteen pages stand in a handful of named groups.
        let groups = super::nav_groups(Role::Admin);
        assert_eq!(
            groups
                .iter()
                .filter_map(|(name, _)| *name)
                .collect::<Vec<_>>(),
            [
                "Meine Aufgaben",
                "Katalog",
                "Nachweise & Prüfungen",
                "Personen",
                "Kunden & Portal",
                "Einstellungen"
            ]
        );
        // 16 until the AVV concluded in the portal got its page.
        assert_eq!(nav_links(Role::Admin).len(), 17);
        // The AVV text and its conclusion for who answers for contracts,
        // not for staff.
        assert!(hrefs(Role::Auditor).contains(&"/avv"));
        assert!(!hrefs(Role::Staff).contains(&"/avv"));
        assert!(hrefs(Role::Auditor).contains(&"/avv-abschluss"));
        assert!(!hrefs(Role::Owner).contains(&"/avv-abschluss"));
        assert!(!hrefs(Role::Staff).contains(&"/avv-abschluss"));
    }
}
