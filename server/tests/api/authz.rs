//! Every server function called as every role, as a stranger, and as a member
//! of another organisation: what is allowed, what is refused, nothing leaks.

use app::domain::Role;
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use crate::both;
use crate::catalogue::{catalogue, category_id, create, measure};
use crate::helpers::*;

/// Objects one call works on, fresh for every caller so that calls don't interfere.
struct Fixture {
    /// The number that makes this fixture's names unique.
    n: usize,
    org: String,
    /// The text of the fixture's measure (unique per fixture).
    measure_text: String,
    invitation_token: String,
    measure: String,
    measure_category: String,
    category: String,
    owner: String,
    invitation: String,
    temp_user: String,
    evidence: String,
    subprocessor: String,
    attestation: String,
    provider: String,
}

type Args = fn(&Fixture) -> Vec<(&'static str, String)>;

struct Case {
    endpoint: &'static str,
    allowed: &'static [Role],
    args: Args,
}

const INTERNAL: &[Role] = &[Role::Admin, Role::Owner, Role::Staff, Role::Auditor];
const ADMIN: &[Role] = &[Role::Admin];
const EVIDENCE_READERS: &[Role] = &[Role::Admin, Role::Owner, Role::Auditor];
const EVIDENCE_WRITERS: &[Role] = &[Role::Admin, Role::Owner];

/// What an allowed call of the first matrix does, and a refused one must
/// not: a row in the audit log (written in the same transaction as the
/// change) as an SQL count, and for reads, a text of the fixture the
/// answer must carry.
struct Effects {
    audit: Option<String>,
    shows: Option<String>,
}

fn effects(endpoint: &str, f: &Fixture) -> Effects {
    let audit = |entity: &str, id: Option<&str>, action: &str| {
        let mut sql = format!(
            "SELECT COUNT(*) FROM audit_log WHERE entity = '{entity}' AND action = '{action}'"
        );
        if let Some(id) = id {
            sql.push_str(&format!(" AND entity_id = '{id}'"));
        }
        Some(sql)
    };
    let (audit, shows) = match endpoint {
        "customers/add" => (audit("customer", None, "create"), None),
        "sso/providers" => (None, Some(format!("IdP {}", f.n))),
        "sso/providers/add" => (audit("identity_provider", None, "create"), None),
        "sso/providers/enable" => (
            audit("identity_provider", Some(&f.provider), "disable"),
            None,
        ),
        "evidence/update" => (audit("evidence", Some(&f.evidence), "update"), None),
        "evidence/delete" => (audit("evidence", Some(&f.evidence), "delete"), None),
        "mail/outbox" => (None, Some(format!("inv{}@", f.n))),
        "subprocessors/list" => (None, Some(format!("Rechenzentrum {} GmbH", f.n))),
        "subprocessors/save" => (audit("subprocessor", None, "create"), None),
        "subprocessors/link" => (audit("measure", Some(&f.measure), "relies_on"), None),
        "subprocessors/attestation/add" => (audit("attestation", None, "create"), None),
        "subprocessors/attestation/remove" => {
            (audit("attestation", Some(&f.attestation), "delete"), None)
        }
        "toms/catalogue" | "toms/measure" => (None, Some(f.measure_text.clone())),
        "orgs/members" => (None, Some(format!("temp{}@", f.n))),
        "toms/measure/create" => (audit("measure", None, "create"), None),
        "toms/measure/update" => (audit("measure", Some(&f.measure), "update"), None),
        "toms/measure/move" => (audit("measure", Some(&f.measure), "reorder"), None),
        "toms/measure/owner/remove" => (audit("measure", Some(&f.measure), "owner_remove"), None),
        "toms/measure/retire" => (audit("measure", Some(&f.measure), "retire"), None),
        "toms/category/add" => (audit("category", None, "create"), None),
        "toms/category/rename" => (audit("category", Some(&f.category), "rename"), None),
        "toms/category/move" => (audit("category", Some(&f.category), "reorder"), None),
        "orgs/profile/update" => (audit("organisation", Some(&f.org), "update"), None),
        "orgs/invite" => (audit("invitation", None, "create"), None),
        "orgs/invitation/revoke" => (audit("invitation", Some(&f.invitation), "revoke"), None),
        "orgs/member/role" => (audit("membership", Some(&f.temp_user), "update"), None),
        "orgs/member/remove" => (audit("membership", Some(&f.temp_user), "delete"), None),
        _ => (None, None),
    };
    Effects { audit, shows }
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            endpoint: "customers/list",
            allowed: ADMIN,
            args: |_| vec![],
        },
        Case {
            endpoint: "customers/add",
            allowed: ADMIN,
            args: |_| vec![("name", "Kanzlei Hoffmann".into())],
        },
        Case {
            endpoint: "sso/providers",
            allowed: ADMIN,
            args: |_| vec![],
        },
        Case {
            endpoint: "sso/providers/add",
            allowed: ADMIN,
            args: |_| {
                vec![
                    ("name", "Entra ID".into()),
                    ("issuer_url", "https://login.example.com/tenant/v2.0".into()),
                    ("client_id", "nachweis".into()),
                    ("allowed_domains", "kunde.example".into()),
                ]
            },
        },
        Case {
            endpoint: "sso/providers/enable",
            allowed: ADMIN,
            args: |f| vec![("id", f.provider.clone()), ("enabled", "false".into())],
        },
        Case {
            endpoint: "portal/overview",
            allowed: &Role::ALL,
            args: |_| vec![],
        },
        // Every member: customers get empty panels (their start page links the portal).
        Case {
            endpoint: "home/start",
            allowed: &Role::ALL,
            args: |_| vec![],
        },
        Case {
            endpoint: "reminders/dashboard",
            allowed: EVIDENCE_READERS,
            args: |_| vec![],
        },
        Case {
            endpoint: "evidence/list",
            allowed: EVIDENCE_READERS,
            args: |f| vec![("measure_id", f.measure.clone())],
        },
        Case {
            endpoint: "evidence/update",
            allowed: EVIDENCE_WRITERS,
            args: |f| {
                vec![
                    ("id", f.evidence.clone()),
                    ("title", "Neuer Titel".into()),
                    ("valid_until", "2030-01-31".into()),
                ]
            },
        },
        Case {
            endpoint: "evidence/delete",
            allowed: EVIDENCE_WRITERS,
            args: |f| vec![("id", f.evidence.clone())],
        },
        Case {
            endpoint: "mail/outbox",
            allowed: ADMIN,
            args: |_| vec![],
        },
        Case {
            endpoint: "subprocessors/list",
            allowed: INTERNAL,
            args: |_| vec![],
        },
        Case {
            endpoint: "subprocessors/save",
            allowed: ADMIN,
            args: |_| {
                vec![
                    ("name", "Neuer Dienstleister GmbH".into()),
                    ("safeguard", "eu".into()),
                    ("status", "planned".into()),
                ]
            },
        },
        Case {
            endpoint: "subprocessors/reliance",
            allowed: INTERNAL,
            args: |f| vec![("measure_id", f.measure.clone())],
        },
        Case {
            endpoint: "subprocessors/link",
            allowed: ADMIN,
            args: |f| {
                vec![
                    ("measure_id", f.measure.clone()),
                    ("subprocessor_id", f.subprocessor.clone()),
                ]
            },
        },
        Case {
            endpoint: "subprocessors/attestation/add",
            allowed: ADMIN,
            args: |f| {
                vec![
                    ("subprocessor_id", f.subprocessor.clone()),
                    ("kind", "iso27001".into()),
                ]
            },
        },
        Case {
            endpoint: "subprocessors/attestation/remove",
            allowed: ADMIN,
            args: |f| vec![("id", f.attestation.clone())],
        },
        Case {
            endpoint: "toms/catalogue",
            allowed: INTERNAL,
            args: |_| vec![],
        },
        Case {
            endpoint: "toms/measure",
            allowed: INTERNAL,
            args: |f| vec![("id", f.measure.clone())],
        },
        Case {
            endpoint: "toms/my-measures",
            allowed: INTERNAL,
            args: |_| vec![],
        },
        Case {
            endpoint: "toms/categories",
            allowed: INTERNAL,
            args: |_| vec![],
        },
        Case {
            endpoint: "orgs/profile",
            allowed: INTERNAL,
            args: |_| vec![],
        },
        Case {
            endpoint: "orgs/members",
            allowed: ADMIN,
            args: |_| vec![],
        },
        Case {
            endpoint: "audit/list",
            allowed: &[Role::Admin, Role::Auditor],
            args: |_| {
                vec![
                    ("filter[entity]", String::new()),
                    ("filter[action]", String::new()),
                    ("filter[actor]", String::new()),
                ]
            },
        },
        Case {
            endpoint: "audit/page",
            allowed: &[Role::Admin, Role::Auditor],
            args: |_| vec![("filter[entity]", String::new()), ("page", "1".to_owned())],
        },
        Case {
            endpoint: "audit/verify",
            allowed: &[Role::Admin, Role::Auditor],
            args: |_| vec![],
        },
        Case {
            endpoint: "toms/measure/create",
            allowed: ADMIN,
            args: |f| {
                vec![
                    ("category_id", f.category.clone()),
                    ("title", String::new()),
                    ("body", "Neue Maßnahme".into()),
                    ("status", "planned".into()),
                ]
            },
        },
        Case {
            endpoint: "toms/measure/update",
            // the owner here is the measure's owner
            allowed: &[Role::Admin, Role::Owner],
            args: |f| {
                vec![
                    ("id", f.measure.clone()),
                    ("version", "2".into()),
                    ("category_id", f.measure_category.clone()),
                    ("title", String::new()),
                    ("body", "Geändert".into()),
                    ("status", "implemented".into()),
                ]
            },
        },
        Case {
            endpoint: "toms/measure/move",
            allowed: ADMIN,
            args: |f| vec![("id", f.measure.clone()), ("direction", "up".into())],
        },
        Case {
            endpoint: "toms/measure/owner/remove",
            allowed: ADMIN,
            args: |f| {
                vec![
                    ("measure_id", f.measure.clone()),
                    ("user_id", f.owner.clone()),
                ]
            },
        },
        Case {
            endpoint: "toms/measure/owner/add",
            allowed: ADMIN,
            args: |f| {
                vec![
                    ("measure_id", f.measure.clone()),
                    ("user_id", f.owner.clone()),
                ]
            },
        },
        Case {
            endpoint: "toms/measure/retire",
            allowed: ADMIN,
            args: |f| vec![("id", f.measure.clone())],
        },
        Case {
            endpoint: "toms/category/add",
            allowed: ADMIN,
            args: |f| vec![("parent_id", f.category.clone()), ("title", "Neu".into())],
        },
        Case {
            endpoint: "toms/category/rename",
            allowed: ADMIN,
            args: |f| vec![("id", f.category.clone()), ("title", "Umbenannt".into())],
        },
        Case {
            endpoint: "toms/category/move",
            allowed: ADMIN,
            args: |f| vec![("id", f.category.clone()), ("direction", "down".into())],
        },
        Case {
            endpoint: "orgs/profile/update",
            allowed: ADMIN,
            args: |_| {
                vec![
                    ("legal_name", "Geändert GmbH".into()),
                    ("display_short", "G".into()),
                    ("address", String::new()),
                    ("dpo_contact", String::new()),
                    ("intro_text", String::new()),
                ]
            },
        },
        Case {
            endpoint: "orgs/invite",
            allowed: ADMIN,
            args: |_| {
                vec![
                    ("email", "new-person@elsewhere.example".into()),
                    ("role", "staff".into()),
                ]
            },
        },
        Case {
            endpoint: "orgs/invitation/revoke",
            allowed: ADMIN,
            args: |f| vec![("id", f.invitation.clone())],
        },
        Case {
            endpoint: "orgs/member/role",
            allowed: ADMIN,
            args: |f| vec![("user_id", f.temp_user.clone()), ("role", "auditor".into())],
        },
        Case {
            endpoint: "orgs/member/remove",
            allowed: ADMIN,
            args: |f| vec![("user_id", f.temp_user.clone())],
        },
    ]
}

async fn fixture(app: &TestApp, admin: &Client, org: &Org, n: usize) -> Fixture {
    let cat = catalogue(admin).await;
    let category = category_id(&cat, "3");
    let measure_category = category_id(&cat, "3.2");
    let measure_text = format!("Geheimer Text {} Nr. {n}", org.short);
    let m = create(admin, measure_category, &measure_text).await;
    let owner = org.user_id(Role::Owner);
    let a = admin
        .call(
            "toms/measure/owner/add",
            &[
                ("measure_id", &m.to_string()),
                ("user_id", &owner.to_string()),
            ],
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let inv = admin
        .call(
            "orgs/invite",
            &[
                ("email", &format!("inv{n}@{}.example", org.short)),
                ("role", "staff"),
            ],
        )
        .await;
    assert_eq!(inv.status, StatusCode::OK, "{}", inv.body);
    let members: app::orgs::MembersView =
        serde_json::from_str(&admin.call("orgs/members", &[]).await.body).unwrap();
    let invitation = members
        .invitations
        .iter()
        .find(|i| i.email == format!("inv{n}@{}.example", org.short))
        .unwrap()
        .id;
    // A throwaway member whose role can be changed and who can be removed.
    let now = app::state::Clock::now(app.clock.as_ref());
    let email =
        app::domain::EmailAddress::parse(&format!("temp{n}@{}.example", org.short)).unwrap();
    let sys = app::audit::service::AuditActor::system("test");
    let u = app::auth::service::create_user(&app.db, now, &sys, &email, "Temp", Some(PASSWORD))
        .await
        .unwrap();
    app::orgs::service::add_membership(&app.db, now, &sys, org.id, u.id, Role::Staff)
        .await
        .unwrap();
    let uploaded = crate::evidence::upload(
        admin,
        crate::evidence::form(m, "Nachweis", "", "n.pdf", crate::evidence::PDF.to_vec()),
    )
    .await;
    assert_eq!(uploaded.status, StatusCode::CREATED, "{}", uploaded.body);
    let uploaded: app::evidence::UploadResult = serde_json::from_str(&uploaded.body).unwrap();
    let sub = admin
        .call(
            "subprocessors/save",
            &[
                ("name", &format!("Rechenzentrum {n} GmbH")),
                ("safeguard", "eu"),
                ("status", "active"),
            ],
        )
        .await;
    assert_eq!(sub.status, StatusCode::OK, "{}", sub.body);
    let att = admin
        .call(
            "subprocessors/attestation/add",
            &[("subprocessor_id", &sub.body), ("kind", "iso27001")],
        )
        .await;
    assert_eq!(att.status, StatusCode::OK, "{}", att.body);
    let provider = admin
        .call(
            "sso/providers/add",
            &[
                ("name", &format!("IdP {n}")),
                ("issuer_url", "https://idp.example.com/realms/kunde"),
                ("client_id", "nachweis"),
                ("allowed_domains", "kunde.example"),
            ],
        )
        .await;
    assert_eq!(provider.status, StatusCode::OK, "{}", provider.body);
    Fixture {
        n,
        org: org.id.to_string(),
        measure_text,
        invitation_token: crate::invitations::token_of(&inv.body),
        provider: provider.body,
        measure: m.to_string(),
        measure_category: measure_category.to_string(),
        category: category.to_string(),
        owner: owner.to_string(),
        invitation: invitation.to_string(),
        temp_user: u.id.to_string(),
        evidence: uploaded.evidence_id.to_string(),
        subprocessor: sub.body,
        attestation: att.body,
    }
}

async fn every_server_function_as_every_role(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = spawn_app(&db).await;
    let org = app.org("acme").await;
    let admin = app.client();
    admin.login_ok(&org.email(Role::Admin)).await;

    let mut n = 0;
    // None = not signed in.
    for role in [
        None,
        Some(Role::Admin),
        Some(Role::Owner),
        Some(Role::Staff),
        Some(Role::Auditor),
        Some(Role::Customer),
    ] {
        let c = app.client();
        if let Some(r) = role {
            c.login_ok(&org.email(r)).await;
        }
        for case in cases() {
            n += 1;
            let f = fixture(&app, &admin, &org, n).await;
            let args = (case.args)(&f);
            let form: Vec<(&str, &str)> = args.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let effects = effects(case.endpoint, &f);
            let before = match &effects.audit {
                Some(sql) => count(&app, sql).await,
                None => 0,
            };
            let a = c.call(case.endpoint, &form).await;
            let after = match &effects.audit {
                Some(sql) => count(&app, sql).await,
                None => 0,
            };
            let allowed = role.is_some_and(|r| case.allowed.contains(&r));
            if allowed {
                assert!(
                    a.status.is_success(),
                    "{:?} must be allowed {}: {} {}",
                    role,
                    case.endpoint,
                    a.status,
                    a.body
                );
                if effects.audit.is_some() {
                    assert_eq!(
                        after,
                        before + 1,
                        "{role:?} {}: allowed, but without its one audited change",
                        case.endpoint
                    );
                }
                if let Some(text) = &effects.shows {
                    assert!(
                        a.body.contains(text.as_str()),
                        "{role:?} {}: allowed, but the answer lacks {text:?}: {}",
                        case.endpoint,
                        a.body
                    );
                }
            } else {
                assert_eq!(
                    before, after,
                    "{role:?} {}: refused, yet it changed something",
                    case.endpoint
                );
                let expected = if role.is_none() {
                    StatusCode::UNAUTHORIZED
                } else {
                    StatusCode::FORBIDDEN
                };
                assert_eq!(
                    a.status, expected,
                    "{:?} must be refused {}: {}",
                    role, case.endpoint, a.body
                );
                // Nothing changed: the measure is still at the version the fixture left it.
                let m = measure(&admin, f.measure.parse().unwrap()).await;
                assert_eq!(
                    m.version, 2,
                    "{:?} changed the measure through {}",
                    role, case.endpoint
                );
            }
        }
    }
    app.stop().await;
}
both!(every_server_function_as_every_role);

async fn nobody_reaches_another_organisations_data(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = spawn_app(&db).await;
    let a_org = app.org("acme").await;
    let b_org = app.org("bravo").await;
    let a_admin = app.client();
    a_admin.login_ok(&a_org.email(Role::Admin)).await;
    let f = fixture(&app, &a_admin, &a_org, 1).await;

    for role in [
        Role::Admin,
        Role::Owner,
        Role::Auditor,
        Role::Staff,
        Role::Customer,
    ] {
        let b = app.client();
        b.login_ok(&b_org.email(role)).await;
        for case in cases() {
            let args = (case.args)(&f);
            let form: Vec<(&str, &str)> = args.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let a = b.call(case.endpoint, &form).await;
            assert!(
                !a.body.contains("Geheimer Text acme"),
                "{role:?} of bravo saw acme's data via {}",
                case.endpoint
            );
            assert!(
                !a.body.contains(&a_org.email(Role::Admin)),
                "{role:?} of bravo saw acme's people via {}",
                case.endpoint
            );
            // Calls that name acme's objects never succeed.
            let names_acme_object = args.iter().any(|(k, _)| {
                [
                    "id",
                    "measure_id",
                    "user_id",
                    "category_id",
                    "parent_id",
                    "subprocessor_id",
                ]
                .contains(k)
            });
            if names_acme_object || case.endpoint == "orgs/invitation/revoke" {
                assert!(
                    !a.status.is_success(),
                    "{role:?} of bravo succeeded with acme's ids via {}: {}",
                    case.endpoint,
                    a.body
                );
            }
        }
    }
    // The measure of acme is untouched.
    let m = measure(&a_admin, f.measure.parse().unwrap()).await;
    assert_eq!(m.version, 2);
    assert_eq!(m.owners.len(), 1);
    let members: app::orgs::MembersView =
        serde_json::from_str(&a_admin.call("orgs/members", &[]).await.body).unwrap();
    assert!(
        members
            .members
            .iter()
            .any(|mm| mm.user_id.to_string() == f.temp_user && mm.role == Role::Staff)
    );
    app.stop().await;
}
both!(nobody_reaches_another_organisations_data);

async fn switching_to_a_foreign_organisation_is_refused(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = spawn_app(&db).await;
    let _a = app.org("acme").await;
    let b = app.org("bravo").await;
    let c = app.client();
    c.login_ok(&b.email(Role::Admin)).await;
    let a = c
        .call("auth/switch-org", &[("org_id", &_a.id.to_string())])
        .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND, "{}", a.body);
    let me = c.call("auth/me", &[]).await;
    assert!(me.body.contains("bravo GmbH"), "{}", me.body);
    app.stop().await;
}
both!(switching_to_a_foreign_organisation_is_refused);

/// The plain routes (file downloads, CSV, form posts, SSO links) as every
/// role, signed out, and as every role of another organisation.
async fn every_plain_route_as_every_role(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = spawn_app(&db).await;
    let org = app.org("acme").await;
    let other = app.org("bravo").await;
    let admin = app.client();
    admin.login_ok(&org.email(Role::Admin)).await;
    let cat = catalogue(&admin).await;
    let m = create(&admin, category_id(&cat, "3.2"), "Geheimer Text acme").await;
    let a = admin.call("annex/publish", &[]).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let a = admin.call("subprocessors/anlage2/publish", &[]).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let uploaded = crate::evidence::upload(
        &admin,
        crate::evidence::form(m, "Nachweis", "", "n.pdf", crate::evidence::PDF.to_vec()),
    )
    .await;
    assert_eq!(uploaded.status, StatusCode::CREATED, "{}", uploaded.body);
    let uploaded: app::evidence::UploadResult = serde_json::from_str(&uploaded.body).unwrap();
    let provider = admin
        .call(
            "sso/providers/add",
            &[
                ("name", "Firmen-Login"),
                ("issuer_url", "https://idp.example.com/realms/acme"),
                ("client_id", "nachweis"),
                ("allowed_domains", "acme.example"),
            ],
        )
        .await;
    assert_eq!(provider.status, StatusCode::OK, "{}", provider.body);

    const PREVIEW: &[Role] = &[Role::Admin, Role::Owner, Role::Auditor];
    const READERS: &[Role] = &[Role::Admin, Role::Auditor];
    const MEMBERS: &[Role] = &[
        Role::Admin,
        Role::Owner,
        Role::Staff,
        Role::Auditor,
        Role::Customer,
    ];
    let routes: Vec<(&str, String, &[Role])> = vec![
        ("GET", "/anlage/entwurf.pdf".into(), PREVIEW),
        ("GET", "/anlage/v1.pdf".into(), INTERNAL),
        ("GET", "/portal/anlage/v1.pdf".into(), MEMBERS),
        ("GET", "/anlage2/v1.pdf".into(), MEMBERS),
        (
            "GET",
            format!("/nachweise/datei/{}", uploaded.version_id),
            EVIDENCE_READERS,
        ),
        ("GET", "/verpflichtungen.csv".into(), READERS),
        ("GET", "/protokoll.csv".into(), READERS),
        ("GET", "/schulungen/uebersicht.csv".into(), READERS),
        (
            "GET",
            format!("/sso/{}/verknuepfen", provider.body),
            INTERNAL,
        ),
    ];
    let send = |c: &Client, method: &str, path: &str| {
        let req = match method {
            "GET" => c.http.get(format!("{}{path}", c.base)),
            _ => c.http.post(format!("{}{path}", c.base)),
        };
        async move { req.send().await.unwrap().status() }
    };
    for role in [
        None,
        Some(Role::Admin),
        Some(Role::Owner),
        Some(Role::Staff),
        Some(Role::Auditor),
        Some(Role::Customer),
    ] {
        let c = app.client();
        if let Some(r) = role {
            c.login_ok(&org.email(r)).await;
        }
        for (method, path, allowed) in &routes {
            let status = send(&c, method, path).await;
            if role.is_some_and(|r| allowed.contains(&r)) {
                assert!(
                    status.is_success(),
                    "{role:?} must reach {method} {path}: {status}"
                );
            } else {
                assert!(
                    !status.is_success(),
                    "{role:?} must not reach {method} {path}: {status}"
                );
                if role.is_some() {
                    assert!(
                        [StatusCode::FORBIDDEN, StatusCode::NOT_FOUND].contains(&status),
                        "{role:?} {method} {path}: {status}"
                    );
                }
            }
        }
        // The other organisation's people reach none of acme's objects.
        if let Some(r) = role {
            let b = app.client();
            b.login_ok(&other.email(r)).await;
            for (method, path, _) in &routes {
                if path.ends_with(".csv") || path.ends_with("entwurf.pdf") {
                    continue; // their own organisation's list or draft: the cases above
                }
                let status = send(&b, method, path).await;
                assert!(
                    !status.is_success(),
                    "{r:?} of bravo reached acme's {method} {path}: {status}"
                );
            }
        }
    }
    // The review form post: the admin only, and the page for the rest.
    for role in [Role::Owner, Role::Staff, Role::Auditor, Role::Customer] {
        let c = app.client();
        c.login_ok(&org.email(role)).await;
        let status = c
            .http
            .post(format!("{}/pruefungen/neu", app.address))
            .header("Accept", "application/json")
            .form(&[("title", "x"), ("due_date", "2099-01-01"), ("scope", "all")])
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status, StatusCode::FORBIDDEN, "{role:?}");
    }
    app.stop().await;
}
both!(every_plain_route_as_every_role);

/// What the personal and review routes can change: the open attempt's saved
/// answers, the assessment's "tested" text, and the organisation's evidence.
async fn personal_state(
    app: &TestApp,
    attempt: app::ids::AttemptId,
    item: app::ids::ReviewItemId,
    org: &Org,
) -> (String, String, i64) {
    use sea_orm::EntityTrait;
    let answers = app::entities::training_attempts::Entity::find_by_id(attempt)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap()
        .answers;
    let tested = app::entities::review_items::Entity::find_by_id(item)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap()
        .tested;
    let evidence = count(
        app,
        &format!("SELECT COUNT(*) FROM evidence WHERE org_id = {}", org.id),
    )
    .await;
    (answers, tested, evidence)
}

/// The plain routes that open one person's record or one review, and the
/// form posts that change them: the signed pledge, the certificate, the
/// review report, the quiz form, the assessment form and the upload. Called
/// by no one, by every role of the organisation and by every role of
/// another one. An allowed download must deliver the PDF and an allowed
/// post must have its effect; a refused call must change nothing.
async fn the_personal_plain_routes_as_every_role(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = spawn_app(&db).await;
    let org = app.org("acme").await;
    let other = app.org("bravo").await;
    let admin = app.client();
    admin.login_ok(&org.email(Role::Admin)).await;
    let staff = app.client();
    staff.login_ok(&org.email(Role::Staff)).await;
    let f = fixture(&app, &admin, &org, 1).await;

    // The staff member's signed pledge.
    let o = crate::pledges::overview(&admin).await;
    let a = admin
        .call(
            "pledges/publish",
            &[("title", &o.draft_title), ("body", &o.draft_body)],
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let text = crate::pledges::mine(&staff)
        .await
        .current
        .expect("published");
    let a = staff
        .call(
            "pledges/sign",
            &[
                ("text_id", &text.id.to_string()),
                ("text_sha256", &text.sha256),
                ("typed_name", "staff acme"),
                ("password", PASSWORD),
                ("confirm", "ja"),
            ],
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let signature = a.body;

    // The staff member's certificate, and an attempt still open.
    let mut courses = Vec::new();
    for title in ["Passwörter", "Homeoffice"] {
        let a = admin
            .call(
                "training/courses/save",
                &[("title", title), ("source", crate::training::COURSE)],
            )
            .await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.body);
        courses.push(a.body);
    }
    let passed = crate::training::start(&staff, &courses[0]).await;
    let version = crate::training::attempt(&staff, passed).await.version_id;
    let (status, body) =
        crate::training::send(&staff, passed, version, &crate::training::answers(5), true).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let completion = body["completion_id"].as_i64().expect("passed");
    let open = crate::training::start(&staff, &courses[1]).await;
    let open_version = crate::training::attempt(&staff, open).await.version_id;

    // A review of the fixture's measure, which the owner holds.
    let (cycle, item) = review_item(&app, &admin, &f).await;
    let item = item.row.id;
    let measure: i32 = f.measure.parse().unwrap();

    const SIGNER_AND_DPO: &[Role] = &[Role::Admin, Role::Auditor, Role::Staff];
    let downloads: Vec<(String, &[Role])> = vec![
        (format!("/verpflichtung/{signature}.pdf"), SIGNER_AND_DPO),
        (
            format!("/schulungen/zertifikat/{completion}.pdf"),
            SIGNER_AND_DPO,
        ),
        (
            format!("/pruefungen/{cycle}/bericht.pdf"),
            &[Role::Admin, Role::Auditor],
        ),
    ];
    let mut callers: Vec<(String, Option<Role>, Client)> =
        vec![("no one".into(), None, app.client())];
    for role in [
        Role::Admin,
        Role::Owner,
        Role::Staff,
        Role::Auditor,
        Role::Customer,
    ] {
        let c = app.client();
        c.login_ok(&other.email(role)).await;
        callers.push((format!("{role:?} of bravo"), None, c));
        let c = app.client();
        c.login_ok(&org.email(role)).await;
        callers.push((format!("{role:?}"), Some(role), c));
    }
    for (who, role, c) in &callers {
        let may = |allowed: &[Role]| role.is_some_and(|r| allowed.contains(&r));
        for (path, allowed) in &downloads {
            let res = c
                .http
                .get(format!("{}{path}", c.base))
                .send()
                .await
                .unwrap();
            let status = res.status();
            let body = res.bytes().await.unwrap();
            if may(allowed) {
                assert_eq!(status, StatusCode::OK, "{who} must get {path}");
                assert!(body.starts_with(b"%PDF-"), "{who} got no PDF at {path}");
            } else {
                assert!(!status.is_success(), "{who} reached {path}: {status}");
                assert!(!body.starts_with(b"%PDF-"), "{who} got the PDF at {path}");
            }
        }

        let before = personal_state(&app, open, item, &org).await;
        // The quiz form: the attempt's holder only.
        let mark = format!("{who} war hier");
        let (status, _) =
            crate::training::send(c, open, open_version, &crate::training::answers(2), false).await;
        // The assessment form: the measure's owner and the DPO.
        let version = item_version(&app, item).await;
        let a = crate::reviews::post(
            c,
            &format!("/pruefungen/bewertung/{item}"),
            &[
                ("version", &version.to_string()),
                ("result", "effective"),
                ("tested", &mark),
                ("rationale", "Stichprobe."),
                ("state_of_art", "yes"),
                ("aktion", "speichern"),
            ],
        )
        .await;
        // The upload: evidence writers.
        let up = crate::evidence::upload(
            c,
            crate::evidence::form(measure, &mark, "", "n.pdf", crate::evidence::PDF.to_vec()),
        )
        .await;
        let after = personal_state(&app, open, item, &org).await;

        if may(&[Role::Staff]) {
            assert_eq!(status, StatusCode::OK, "{who} saves their own answers");
            assert_ne!(after.0, before.0, "{who}: the answers were saved");
        } else {
            assert!(
                !status.is_success(),
                "{who} saved another's answers: {status}"
            );
            assert_eq!(after.0, before.0, "{who} changed another's answers");
        }
        if may(&[Role::Admin, Role::Owner]) {
            assert!(
                a.status.is_success(),
                "{who} assesses: {} {}",
                a.status,
                a.body
            );
            assert_eq!(after.1, mark, "{who}: the assessment was saved");
        } else {
            assert!(
                !a.status.is_success(),
                "{who} assessed: {} {}",
                a.status,
                a.body
            );
            assert_eq!(after.1, before.1, "{who} changed the assessment");
        }
        if may(EVIDENCE_WRITERS) {
            assert_eq!(up.status, StatusCode::CREATED, "{who} uploads: {}", up.body);
            assert_eq!(after.2, before.2 + 1, "{who}: one more evidence item");
        } else {
            assert!(
                !up.status.is_success(),
                "{who} uploaded: {} {}",
                up.status,
                up.body
            );
            assert_eq!(after.2, before.2, "{who} added evidence");
        }
    }
    app.stop().await;
}
both!(the_personal_plain_routes_as_every_role);

async fn item_version(app: &TestApp, item: app::ids::ReviewItemId) -> i32 {
    use sea_orm::EntityTrait;
    app::entities::review_items::Entity::find_by_id(item)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap()
        .version
}

// ---------------------------------------------------------------------------
// The rest of the server functions: those that need more than the fixture
// (a review cycle in a given state, a course, a pledge text, a customer, …),
// the public ones, and those that change who the client is. Each case names
// what it needs; it is prepared afresh for every caller. Allowed calls must
// have their effect (an SQL count that must grow or change); refused calls
// must leave the same count as it was.
// ---------------------------------------------------------------------------

/// What a case needs beyond the [`Fixture`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Needs {
    Nothing,
    Customer,
    Contact,
    DeletedEvidence,
    FailedMail,
    Notice,
    PledgeText,
    Course,
    AdminAttempt,
    Publication,
    /// An open cycle whose one item (the fixture's measure) is pending.
    PendingItem,
    SubmittedItem,
    ApprovedCycle,
    ClosedCycle,
    OpenFinding,
    /// A customer with everything its AVV needs, not yet offered.
    OfferableCustomer,
    /// That customer offered the AVV, the organisation's customer user
    /// assigned to it.
    Offer,
}

/// Ids prepared for one call.
#[derive(Default)]
struct Prepared {
    customer: String,
    contact: String,
    contact_email: String,
    evidence: String,
    outbox: String,
    notice: String,
    text_id: String,
    text_sha: String,
    course: String,
    attempt: String,
    cycle: String,
    item: String,
    item_version: String,
    finding: String,
    offer: String,
    offer_sha: String,
    /// A due date for a corrective action (ISO, 20 days ahead).
    due: String,
}

/// Who calls: the name the account has and its address.
struct Caller {
    name: String,
    email: String,
}

/// Who may call.
#[derive(Clone, Copy)]
enum Access {
    /// These roles succeed; other roles get 403 (or `refused`), signed-out 401.
    Roles(&'static [Role]),
    /// Everybody, signed in or not.
    Anyone,
    /// Only when signed out (an invitation is accepted by its new member).
    SignedOut,
}

type MoreArgs = fn(&Fixture, &Prepared, &Caller) -> Vec<(&'static str, String)>;
/// An SQL `SELECT COUNT(*) …` that an allowed call changes and a refused one does not.
type Effect = fn(&Fixture, &Prepared) -> String;

struct MoreCase {
    endpoint: &'static str,
    access: Access,
    needs: Needs,
    args: MoreArgs,
    effect: Option<Effect>,
    /// A status a signed-in caller without access may get besides 403.
    refused: StatusCode,
    /// The call changes who the client is: it gets a client of its own.
    own_client: bool,
}

const REVIEW_READERS: &[Role] = &[Role::Admin, Role::Owner, Role::Auditor];
const STAFF_AND_UP: &[Role] = &[Role::Admin, Role::Owner, Role::Staff];
const READERS_ALL: &[Role] = &[Role::Admin, Role::Owner, Role::Staff, Role::Auditor];
const MEMBERS: &[Role] = &[
    Role::Admin,
    Role::Owner,
    Role::Staff,
    Role::Auditor,
    Role::Customer,
];
const ADMIN_AUDITOR: &[Role] = &[Role::Admin, Role::Auditor];
const ADMIN_OWNER: &[Role] = &[Role::Admin, Role::Owner];

fn case(endpoint: &'static str, access: Access, needs: Needs, args: MoreArgs) -> MoreCase {
    MoreCase {
        endpoint,
        access,
        needs,
        args,
        effect: None,
        refused: StatusCode::FORBIDDEN,
        own_client: false,
    }
}

impl MoreCase {
    fn effect(mut self, e: Effect) -> Self {
        self.effect = Some(e);
        self
    }
    fn refused(mut self, s: StatusCode) -> Self {
        self.refused = s;
        self
    }
    fn own_client(mut self) -> Self {
        self.own_client = true;
        self
    }
}

fn more_cases() -> Vec<MoreCase> {
    use Access::*;
    use Needs::*;
    vec![
        // Who one is.
        case("auth/me", Anyone, Nothing, |_, _, _| vec![]),
        case("auth/login", Anyone, Nothing, |_, _, c| {
            vec![("email", c.email.clone()), ("password", PASSWORD.into())]
        })
        .effect(|_, _| "SELECT COUNT(*) FROM audit_log WHERE action = 'login'".into())
        .own_client(),
        case("auth/logout", Anyone, Nothing, |_, _, _| vec![]).own_client(),
        case("auth/login-link", Anyone, Contact, |_, p, _| {
            vec![("email", p.contact_email.clone())]
        })
        .effect(|_, p| format!("SELECT COUNT(*) FROM login_links WHERE contact_id = {}", p.contact)),
        case("auth/switch-org", Roles(MEMBERS), Nothing, |f, _, _| {
            vec![("org_id", f.org.clone())]
        }),
        case("orgs/invitation", Anyone, Nothing, |f, _, _| {
            vec![("token", f.invitation_token.clone())]
        }),
        case("orgs/invitation/accept", SignedOut, Nothing, |f, _, _| {
            vec![
                ("token", f.invitation_token.clone()),
                ("display_name", "Neue Person".into()),
                ("password", PASSWORD.into()),
            ]
        })
        .effect(|f, _| {
            format!(
                "SELECT COUNT(*) FROM invitations WHERE id = {} AND accepted_at IS NOT NULL",
                f.invitation
            )
        })
        .refused(StatusCode::UNPROCESSABLE_ENTITY)
        .own_client(),
        // The annex and the portal.
        case("annex/overview", Roles(REVIEW_READERS), Nothing, |_, _, _| vec![]),
        case("annex/publish", Roles(ADMIN), Nothing, |_, _, _| vec![])
            .effect(|_, _| "SELECT COUNT(*) FROM publications".into()),
        case("portal/compare", Roles(MEMBERS), Publication, |_, _, _| {
            vec![("from", "1".into()), ("to", "1".into())]
        }),
        case("portal/notices", Roles(MEMBERS), Nothing, |_, _, _| vec![]),
        // Anlage 2 (the subprocessors as a publication).
        case("subprocessors/anlage2", Roles(READERS_ALL), Nothing, |_, _, _| vec![]),
        case("subprocessors/anlage2/publish", Roles(ADMIN), Nothing, |_, _, _| vec![])
            .effect(|_, _| "SELECT COUNT(*) FROM subprocessor_lists".into()),
        case(
            "portal/notices/object",
            Roles(&[Role::Customer]),
            Notice,
            |_, p, _| {
                vec![
                    ("notice_id", p.notice.clone()),
                    ("reason", "Nicht mit uns.".into()),
                ]
            },
        )
        .effect(|_, p| {
            format!(
                "SELECT COUNT(*) FROM notice_objections WHERE notice_id = {}",
                p.notice
            )
        }),
        // Customers, notices, mail.
        case("customers/contact/add", Roles(ADMIN), Customer, |_, p, _| {
            vec![
                ("customer_id", p.customer.clone()),
                ("name", "Neuer Kontakt".into()),
                ("email", "kontakt@kunde.example".into()),
                ("locale", "de".into()),
            ]
        })
        .effect(|_, p| {
            format!(
                "SELECT COUNT(*) FROM customer_contacts WHERE customer_id = {}",
                p.customer
            )
        }),
        case("customers/contact/remove", Roles(ADMIN), Contact, |_, p, _| {
            vec![("id", p.contact.clone())]
        })
        .effect(|_, p| format!("SELECT COUNT(*) FROM customer_contacts WHERE id = {}", p.contact)),
        case("notices/list", Roles(ADMIN_AUDITOR), Nothing, |_, _, _| vec![]),
        case("notices/issue", Roles(ADMIN), Nothing, |f, _, _| {
            vec![("subprocessor_id", f.subprocessor.clone())]
        })
        .effect(|f, _| {
            format!(
                "SELECT COUNT(*) FROM subprocessor_notices WHERE subprocessor_id = {}",
                f.subprocessor
            )
        }),
        case("mail/retry", Roles(ADMIN), FailedMail, |_, p, _| {
            vec![("id", p.outbox.clone())]
        })
        .effect(|_, p| {
            format!(
                "SELECT COUNT(*) FROM outbox WHERE id = {} AND status = 'queued'",
                p.outbox
            )
        }),
        case("evidence/purge", Roles(ADMIN), DeletedEvidence, |_, p, _| {
            vec![("id", p.evidence.clone())]
        })
        .effect(|_, p| {
            format!(
                "SELECT COUNT(*) FROM evidence_versions WHERE evidence_id = {} AND purged_at IS NOT NULL",
                p.evidence
            )
        }),
        // The catalogue import.
        case("toms/import/preview", Roles(ADMIN), Nothing, |_, _, _| {
            vec![(
                "text",
                "a) Zutrittskontrolle\n- Türen sind verschlossen.\n".into(),
            )]
        }),
        case("toms/import/apply", Roles(ADMIN), Nothing, |f, _, _| {
            vec![
                (
                    "text",
                    "a) Zutrittskontrolle\n- Importierte Maßnahme aus dem Altdokument.\n".into(),
                ),
                ("targets[0]", format!("c{}", f.measure_category)),
            ]
        })
        .effect(|_, _| {
            "SELECT COUNT(*) FROM measures WHERE body LIKE '%Importierte Maßnahme aus dem Altdokument%'"
                .into()
        }),
        // The AVV concluded in the portal: admins offer, auditors read the
        // overview, only the customer's own users accept.
        case("contract/overview", Roles(ADMIN_AUDITOR), Nothing, |_, _, _| vec![]),
        case("contract/portal", Roles(MEMBERS), Nothing, |_, _, _| vec![]),
        case("contract/offer", Roles(ADMIN), OfferableCustomer, |_, p, _| {
            vec![("customer_id", p.customer.clone())]
        })
        .effect(|_, p| {
            format!(
                "SELECT COUNT(*) FROM contract_offers WHERE customer_id = {}",
                p.customer
            )
        }),
        case("contract/accept", Roles(&[Role::Customer]), Offer, |_, p, c| {
            vec![
                ("offer_id", p.offer.clone()),
                ("sha256", p.offer_sha.clone()),
                ("typed_name", c.name.clone()),
                ("function", "Geschäftsführerin".into()),
                ("password", PASSWORD.into()),
                ("confirm", "ja".into()),
            ]
        })
        .effect(|_, p| {
            format!(
                "SELECT COUNT(*) FROM contract_acceptances WHERE offer_id = {}",
                p.offer
            )
        }),
        // Pledges.
        case("pledges/mine", Roles(READERS_ALL), Nothing, |_, _, _| vec![]),
        case("pledges/overview", Roles(ADMIN_AUDITOR), Nothing, |_, _, _| vec![]),
        // The AVV text.
        case("avv/texts", Roles(ADMIN_AUDITOR), Nothing, |_, _, _| vec![]),
        case("avv/save", Roles(ADMIN), Nothing, |f, _, _| {
            vec![
                ("locale", "de".into()),
                ("title", "Vertrag zur Auftragsverarbeitung".into()),
                ("body", format!("## § 1\n\nFassung {}.", f.n)),
            ]
        })
        .effect(|_, _| "SELECT COUNT(*) FROM avv_texts".into()),
        case("pledges/publish", Roles(ADMIN), Nothing, |f, _, _| {
            vec![
                ("title", "Verpflichtung auf die Vertraulichkeit".into()),
                ("body", format!("Ich wahre die Vertraulichkeit (Fassung {}).", f.n)),
            ]
        })
        .effect(|_, _| "SELECT COUNT(*) FROM pledge_texts".into()),
        case("pledges/sign", Roles(STAFF_AND_UP), PledgeText, |_, p, c| {
            vec![
                ("text_id", p.text_id.clone()),
                ("text_sha256", p.text_sha.clone()),
                ("typed_name", c.name.clone()),
                ("password", PASSWORD.into()),
                ("confirm", "on".into()),
            ]
        })
        .effect(|_, p| {
            format!(
                "SELECT COUNT(*) FROM pledge_signatures WHERE pledge_text_id = {}",
                p.text_id
            )
        }),
        // Training.
        case("training/mine", Roles(READERS_ALL), Nothing, |_, _, _| vec![]),
        case("training/courses", Roles(ADMIN_AUDITOR), Nothing, |_, _, _| vec![]),
        case("training/overview", Roles(ADMIN_AUDITOR), Nothing, |_, _, _| vec![]),
        case("training/courses/save", Roles(ADMIN), Nothing, |f, _, _| {
            vec![
                ("title", format!("Kurs {}", f.n)),
                ("source", crate::training::COURSE.into()),
            ]
        })
        .effect(|_, _| "SELECT COUNT(*) FROM training_courses".into()),
        case("training/courses/create", Roles(ADMIN), Nothing, |f, _, _| {
            vec![
                ("title", format!("Neuer Kurs {}", f.n)),
                ("source", crate::training::COURSE.into()),
            ]
        })
        .effect(|_, _| "SELECT COUNT(*) FROM training_courses".into()),
        case("training/courses/base", Roles(ADMIN), Nothing, |_, _, _| vec![])
            .effect(|_, _| "SELECT COUNT(*) FROM training_courses".into()),
        case("training/courses/rules", Roles(ADMIN), Course, |_, p, _| {
            vec![
                ("course_id", p.course.clone()),
                ("interval_months", "7".into()),
                ("new_staff_days", "10".into()),
                ("retry_days", "5".into()),
            ]
        })
        .effect(|_, p| {
            format!(
                "SELECT COUNT(*) FROM training_courses WHERE id = {} AND interval_months = 7",
                p.course
            )
        }),
        case("training/start", Roles(STAFF_AND_UP), Course, |_, p, _| {
            vec![("course_id", p.course.clone())]
        })
        .effect(|_, _| "SELECT COUNT(*) FROM training_attempts".into()),
        // Someone else's attempt is not there for anyone else.
        case("training/attempt", Roles(ADMIN), AdminAttempt, |_, p, _| {
            vec![("id", p.attempt.clone())]
        })
        .refused(StatusCode::NOT_FOUND),
        // Effectiveness reviews.
        case("reviews/overview", Roles(REVIEW_READERS), Nothing, |_, _, _| vec![]),
        case("reviews/dashboard", Roles(READERS_ALL), Nothing, |_, _, _| vec![]),
        case("reviews/measure", Roles(REVIEW_READERS), Nothing, |f, _, _| {
            vec![("measure_id", f.measure.clone())]
        }),
        case("reviews/cycle", Roles(REVIEW_READERS), PendingItem, |_, p, _| {
            vec![("id", p.cycle.clone())]
        }),
        case("reviews/item", Roles(REVIEW_READERS), PendingItem, |_, p, _| {
            vec![("id", p.item.clone())]
        }),
        case("reviews/cadence", Roles(ADMIN), Nothing, |f, _, _| {
            vec![("measure_id", f.measure.clone()), ("months", "6".into())]
        })
        .effect(|f, _| {
            format!(
                "SELECT COUNT(*) FROM measures WHERE id = {} AND review_months = 6",
                f.measure
            )
        }),
        case("reviews/decide", Roles(ADMIN), SubmittedItem, |_, p, _| {
            vec![
                ("item_id", p.item.clone()),
                ("version", p.item_version.clone()),
                ("decision", "approve".into()),
                ("comment", String::new()),
            ]
        })
        .effect(|_, p| {
            format!(
                "SELECT COUNT(*) FROM review_items WHERE id = {} AND state = 'approved'",
                p.item
            )
        }),
        case("reviews/close", Roles(ADMIN), ApprovedCycle, |_, p, _| {
            vec![
                ("cycle_id", p.cycle.clone()),
                ("comment", "Geprüft.".into()),
            ]
        })
        .effect(|_, p| {
            format!(
                "SELECT COUNT(*) FROM review_cycles WHERE id = {} AND status = 'closed'",
                p.cycle
            )
        }),
        case("reviews/amend", Roles(ADMIN), ClosedCycle, |_, p, _| {
            vec![
                ("item_id", p.item.clone()),
                ("text", "Nachtrag: Protokoll liegt vor.".into()),
            ]
        })
        .effect(|_, p| {
            format!(
                "SELECT COUNT(*) FROM review_events WHERE item_id = {}",
                p.item
            )
        }),
        // The owner here owns the fixture's measure.
        case("reviews/finding/add", Roles(ADMIN_OWNER), PendingItem, |f, p, _| {
            vec![
                ("item_id", p.item.clone()),
                ("description", "Zwei Karten waren noch aktiv.".into()),
                ("action", "Karten sperren.".into()),
                ("due_date", p.due.clone()),
                ("owner_id", f.owner.clone()),
            ]
        })
        .effect(|_, p| {
            format!(
                "SELECT COUNT(*) FROM review_findings WHERE item_id = {}",
                p.item
            )
        }),
        case("reviews/finding/close", Roles(ADMIN_OWNER), OpenFinding, |_, p, _| {
            vec![
                ("finding_id", p.finding.clone()),
                ("note", "Erledigt.".into()),
            ]
        })
        .effect(|_, p| {
            format!(
                "SELECT COUNT(*) FROM review_findings WHERE id = {} AND status = 'closed'",
                p.finding
            )
        }),
    ]
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    use sea_orm::{ConnectionTrait, Statement};
    let row = app
        .db
        .query_one_raw(Statement::from_string(
            app.db.get_database_backend(),
            sql.to_owned(),
        ))
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .unwrap();
    row.try_get_by_index::<i64>(0).unwrap()
}

async fn execute(app: &TestApp, sql: String) {
    use sea_orm::{ConnectionTrait, Statement};
    app.db
        .execute_raw(Statement::from_string(
            app.db.get_database_backend(),
            sql.clone(),
        ))
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// Opens a cycle over the fixture's measure alone (closing any left open
/// by an earlier case); returns (cycle, item) as the admin sees them.
async fn review_item(
    app: &TestApp,
    admin: &Client,
    f: &Fixture,
) -> (app::ids::CycleId, app::reviews::ItemView) {
    execute(
        app,
        "UPDATE review_cycles SET status = 'closed' WHERE status = 'open'".into(),
    )
    .await;
    let due = (app::format::german_day(app::state::Clock::now(app.clock.as_ref()))
        + chrono::Duration::days(30))
    .to_string();
    let measure: i32 = f.measure.parse().unwrap();
    let cycle = crate::reviews::cycle_id(
        &crate::reviews::open(admin, &format!("Prüfung {}", f.n), &due, &[measure]).await,
    );
    let view = crate::reviews::cycle(admin, cycle).await;
    assert_eq!(view.items.len(), 1);
    (cycle, crate::reviews::item(admin, view.items[0].id).await)
}

async fn prepare(app: &TestApp, admin: &Client, org: &Org, f: &Fixture, needs: Needs) -> Prepared {
    use Needs::*;
    let mut p = Prepared {
        due: (app::format::german_day(app::state::Clock::now(app.clock.as_ref()))
            + chrono::Duration::days(20))
        .to_string(),
        ..Default::default()
    };
    let ok = |a: &Answer| assert!(a.status.is_success(), "{needs:?}: {} {}", a.status, a.body);
    if matches!(needs, Customer | Contact | Notice) {
        let a = admin
            .call("customers/add", &[("name", &format!("Kunde {}", f.n))])
            .await;
        ok(&a);
        p.customer = a.body;
    }
    match needs {
        Nothing | Customer => {}
        Contact => {
            p.contact_email = format!("kontakt{}@kunde.example", f.n);
            let a = admin
                .call(
                    "customers/contact/add",
                    &[
                        ("customer_id", &p.customer),
                        ("name", "Kontakt"),
                        ("email", &p.contact_email),
                        ("locale", "de"),
                    ],
                )
                .await;
            ok(&a);
            p.contact = a.body;
        }
        DeletedEvidence => {
            let a = admin.call("evidence/delete", &[("id", &f.evidence)]).await;
            ok(&a);
            p.evidence = f.evidence.clone();
        }
        FailedMail => {
            let row = app::entities::outbox::Entity::find()
                .filter(
                    app::entities::outbox::Column::Recipient
                        .eq(format!("inv{}@{}.example", f.n, org.short)),
                )
                .one(&app.db)
                .await
                .unwrap()
                .expect("the fixture's invitation mail");
            execute(
                app,
                format!(
                    "UPDATE outbox SET status = 'failed', attempts = 5 WHERE id = {}",
                    row.id
                ),
            )
            .await;
            p.outbox = row.id.to_string();
        }
        Notice => {
            crate::notices::assign(app, org.id, org.user_id(Role::Customer), &p.customer).await;
            let a = admin
                .call("notices/issue", &[("subprocessor_id", &f.subprocessor)])
                .await;
            ok(&a);
            p.notice = a.body;
        }
        PledgeText => {
            let a = admin
                .call(
                    "pledges/publish",
                    &[
                        ("title", "Verpflichtung"),
                        ("body", &format!("Text für Durchgang {}.", f.n)),
                    ],
                )
                .await;
            ok(&a);
            let current = crate::pledges::mine(admin).await.current.unwrap();
            p.text_id = current.id.to_string();
            p.text_sha = current.sha256;
        }
        Course | AdminAttempt => {
            let a = admin
                .call(
                    "training/courses/save",
                    &[
                        ("title", &format!("Schulung {}", f.n)),
                        ("source", crate::training::COURSE),
                    ],
                )
                .await;
            ok(&a);
            p.course = a.body;
            if needs == AdminAttempt {
                let a = admin
                    .call("training/start", &[("course_id", &p.course)])
                    .await;
                ok(&a);
                p.attempt = a.body;
            }
        }
        Publication => {
            let a = admin.call("annex/publish", &[]).await;
            ok(&a);
        }
        OfferableCustomer | Offer => {
            p.customer = crate::contract::ready_customer(
                admin,
                &format!("Kunde {}", f.n),
                "Hosting.",
                &format!("Rechenzentrum {}", f.n),
            )
            .await;
            if needs == Offer {
                ok(&admin
                    .call("contract/offer", &[("customer_id", &p.customer)])
                    .await);
                crate::notices::assign(app, org.id, org.user_id(Role::Customer), &p.customer).await;
                let offer = app::entities::contract_offers::Entity::find()
                    .filter(
                        app::entities::contract_offers::Column::CustomerId
                            .eq(p.customer.parse::<i32>().unwrap()),
                    )
                    .one(&app.db)
                    .await
                    .unwrap()
                    .unwrap();
                p.offer = offer.id.to_string();
                p.offer_sha = offer.sha256;
            }
        }
        PendingItem | SubmittedItem | ApprovedCycle | ClosedCycle | OpenFinding => {
            let (cycle, mut item) = review_item(app, admin, f).await;
            p.cycle = cycle.to_string();
            if needs == OpenFinding {
                let a = admin
                    .call(
                        "reviews/finding/add",
                        &[
                            ("item_id", &item.row.id.to_string()),
                            ("description", "Befund"),
                            ("action", "Maßnahme"),
                            ("due_date", &p.due),
                            ("owner_id", &f.owner),
                        ],
                    )
                    .await;
                ok(&a);
                p.finding = a.body;
            }
            if matches!(needs, SubmittedItem | ApprovedCycle | ClosedCycle) {
                ok(&crate::reviews::assess(admin, &item, "effective", true, &[]).await);
                item = crate::reviews::item(admin, item.row.id).await;
            }
            if matches!(needs, ApprovedCycle | ClosedCycle) {
                ok(&crate::reviews::decide(admin, &item, "approve", "").await);
                item = crate::reviews::item(admin, item.row.id).await;
            }
            if needs == ClosedCycle {
                ok(&admin
                    .call(
                        "reviews/close",
                        &[("cycle_id", &p.cycle), ("comment", "Abgeschlossen.")],
                    )
                    .await);
            }
            p.item = item.row.id.to_string();
            p.item_version = item.version.to_string();
        }
    }
    p
}

async fn the_other_server_functions_as_every_role(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = spawn_app(&db).await;
    let org = app.org("acme").await;
    let admin = app.client();
    admin.login_ok(&org.email(Role::Admin)).await;
    let mut n = 1000;
    for role in [
        None,
        Some(Role::Admin),
        Some(Role::Owner),
        Some(Role::Staff),
        Some(Role::Auditor),
        Some(Role::Customer),
    ] {
        let signed_in = app.client();
        if let Some(r) = role {
            signed_in.login_ok(&org.email(r)).await;
        }
        let caller = Caller {
            name: role
                .map(|r| format!("{} {}", r.as_str(), org.short))
                .unwrap_or_default(),
            email: org.email(role.unwrap_or(Role::Admin)),
        };
        for case in more_cases() {
            n += 1;
            let f = fixture(&app, &admin, &org, n).await;
            let p = prepare(&app, &admin, &org, &f, case.needs).await;
            let args = (case.args)(&f, &p, &caller);
            let form: Vec<(&str, &str)> = args.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let c = if case.own_client {
                let c = app.client();
                if let Some(r) = role {
                    c.login_ok(&org.email(r)).await;
                }
                c
            } else {
                signed_in.clone()
            };
            let effect = case.effect.map(|e| e(&f, &p));
            let before = match &effect {
                Some(sql) => count(&app, sql).await,
                None => 0,
            };
            let a = c.call(case.endpoint, &form).await;
            let allowed = match case.access {
                Access::Anyone => true,
                Access::SignedOut => role.is_none(),
                Access::Roles(roles) => role.is_some_and(|r| roles.contains(&r)),
            };
            let after = match &effect {
                Some(sql) => count(&app, sql).await,
                None => 0,
            };
            let who = format!("{role:?} {}", case.endpoint);
            if allowed {
                assert!(
                    a.status.is_success(),
                    "{who} must be allowed: {} {}",
                    a.status,
                    a.body
                );
                if effect.is_some() {
                    assert_ne!(before, after, "{who}: allowed, but without its effect");
                }
            } else {
                if role.is_none() {
                    assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{who}: {}", a.body);
                } else {
                    assert!(
                        a.status == StatusCode::FORBIDDEN || a.status == case.refused,
                        "{who} must be refused: {} {}",
                        a.status,
                        a.body
                    );
                }
                assert_eq!(before, after, "{who}: refused, yet it changed something");
            }
        }
    }
    app.stop().await;
}
both!(the_other_server_functions_as_every_role);

/// The two matrices together name every server function the application
/// registers: a new one without a line here fails this test.
#[test]
fn the_matrices_name_every_server_function() {
    let listed: std::collections::BTreeSet<String> = cases()
        .iter()
        .map(|c| c.endpoint)
        .chain(more_cases().iter().map(|c| c.endpoint))
        .map(|e| format!("/api/{e}"))
        .collect();
    let registered: std::collections::BTreeSet<String> = leptos::server_fn::axum::server_fn_paths()
        .map(|(path, _)| path.to_owned())
        .collect();
    assert!(registered.len() > 50, "{registered:?}");
    let missing: Vec<_> = registered.difference(&listed).collect();
    assert!(
        missing.is_empty(),
        "server functions not in the authorisation matrix: {missing:?}"
    );
    let stale: Vec<_> = listed.difference(&registered).collect();
    assert!(
        stale.is_empty(),
        "matrix lines without a server function: {stale:?}"
    );
}

/// Every plain route of the router (outside the server functions), with
/// who may use it and the test that shows it. A route added to the router
/// without a line here fails [`the_route_list_names_every_plain_route`].
const PLAIN_ROUTES: &[(&str, &str, &str)] = &[
    // (method, path, who may use it: the test that shows it)
    (
        "GET",
        "/healthz",
        "anyone: health::ready_when_the_database_is_current",
    ),
    (
        "GET",
        "/readyz",
        "anyone: health::readiness_follows_the_database",
    ),
    (
        "GET",
        "/metrics",
        "the bearer token only: health::metrics_need_the_token_and_name_no_one",
    ),
    (
        "GET",
        "/anlage/entwurf.pdf",
        "admin, owner, auditor: every_plain_route_as_every_role",
    ),
    (
        "GET",
        "/anlage/{file}",
        "internal roles: every_plain_route_as_every_role",
    ),
    (
        "GET",
        "/nachweise/datei/{id}",
        "evidence readers: every_plain_route_as_every_role",
    ),
    (
        "GET",
        "/portal/anlage/{file}",
        "members: every_plain_route_as_every_role",
    ),
    (
        "GET",
        "/anlage2/{file}",
        "members (customers included): every_plain_route_as_every_role",
    ),
    (
        "GET",
        "/kunden/{id}/avv-entwurf.pdf",
        "admin, auditor of the customer's organisation: avv::the_contract_draft_holds_text_particulars_and_both_annexes",
    ),
    (
        "GET",
        "/avv-abschluss/{id}/angebot.pdf",
        "admin, auditor, the customer's own users (others 404, staff 403): contract::the_contract_is_offered_accepted_sealed_and_offered_again_after_a_change",
    ),
    (
        "GET",
        "/avv-abschluss/{id}/vertrag.pdf",
        "admin, auditor, the customer's own users (others 404, staff 403): contract::the_contract_is_offered_accepted_sealed_and_offered_again_after_a_change",
    ),
    (
        "GET",
        "/avv-abschluss.csv",
        "admin, auditor: contract::the_contract_overview_is_exported_and_reminded",
    ),
    (
        "GET",
        "/verzeichnis/{file}",
        "admin, auditor (staff, customers 403): cli::the_register_of_the_demo_data_as_pdf_xlsx_and_csv",
    ),
    (
        "POST",
        "/avv-abschluss/sso",
        "the customer's own users, confirmed at their provider: sso::a_customer_accepts_the_contract_with_a_fresh_login",
    ),
    (
        "GET",
        "/verpflichtung/{file}",
        "the signer, admin, auditor: the_personal_plain_routes_as_every_role",
    ),
    (
        "POST",
        "/verpflichtung/sso",
        "the signed-in person: sso::staff_without_password_confirm_the_pledge_with_a_fresh_login",
    ),
    (
        "GET",
        "/verpflichtungen.csv",
        "admin, auditor: every_plain_route_as_every_role",
    ),
    (
        "GET",
        "/protokoll.csv",
        "admin, auditor: every_plain_route_as_every_role, audit::the_protocol_exports_and_checks_its_chain",
    ),
    (
        "POST",
        "/schulungen/durchgang/{id}",
        "the attempt's owner: the_personal_plain_routes_as_every_role",
    ),
    (
        "GET",
        "/schulungen/zertifikat/{file}",
        "the holder, admin, auditor: the_personal_plain_routes_as_every_role",
    ),
    (
        "GET",
        "/schulungen/bild/{version}/{evidence}",
        "readers of the course: training::course_images_come_from_evidence_for_readers_only",
    ),
    (
        "GET",
        "/schulungen/uebersicht.csv",
        "admin, auditor: every_plain_route_as_every_role",
    ),
    (
        "POST",
        "/pruefungen/neu",
        "admin: every_plain_route_as_every_role",
    ),
    (
        "POST",
        "/kunden/{id}/angaben",
        "the admins of the customer's organisation: avv::particulars_are_kept_per_customer",
    ),
    (
        "POST",
        "/pruefungen/bewertung/{id}",
        "the measure's owner and the DPO: the_personal_plain_routes_as_every_role",
    ),
    (
        "GET",
        "/pruefungen/{id}/bericht.pdf",
        "admin, auditor: the_personal_plain_routes_as_every_role",
    ),
    (
        "GET",
        "/sso",
        "anyone: sso::staff_sign_in_through_the_company_idp_with_mapped_roles",
    ),
    (
        "GET",
        "/sso/callback",
        "the browser that started: sso::protocol_attacks_and_broken_providers_fail_cleanly",
    ),
    (
        "GET",
        "/sso/{id}/start",
        "anyone: sso::customer_signs_in_with_sso_and_lands_in_the_portal",
    ),
    (
        "GET",
        "/sso/{id}/verknuepfen",
        "internal roles: every_plain_route_as_every_role",
    ),
    (
        "POST",
        "/sso/{id}/verknuepfen",
        "internal roles: sso::providers_act_only_inside_their_own_organisation",
    ),
    (
        "GET",
        "/anmeldelink/{token}",
        "the link's holder: login_links::a_contact_signs_in_once_with_a_mailed_link",
    ),
    (
        "POST",
        "/anmeldelink",
        "the link's holder: login_links::a_contact_signs_in_once_with_a_mailed_link",
    ),
    (
        "POST",
        "/nachweise/hochladen",
        "evidence writers: the_personal_plain_routes_as_every_role",
    ),
];

/// The router's plain routes, read from its source: (method, path).
/// The router's routes, read from where they are declared: the server's
/// own (`startup.rs`) and each concept's `app/src/<concept>/http.rs`.
fn routes_in_router() -> std::collections::BTreeSet<(String, String)> {
    let server = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = vec![server.join("src/startup.rs")];
    for concept in std::fs::read_dir(server.join("../app/src")).unwrap() {
        let http = concept.unwrap().path().join("http.rs");
        if http.exists() {
            files.push(http);
        }
    }
    let startup = std::fs::read_to_string(&files[0]).unwrap();
    for f in &files[1..] {
        let name = f.parent().unwrap().file_name().unwrap().to_string_lossy();
        assert!(
            startup.contains(&format!("app::{name}::http::")),
            "{} declares routes the server does not merge",
            f.display()
        );
    }
    let mut out = std::collections::BTreeSet::new();
    for file in &files {
        routes_in(&std::fs::read_to_string(file).unwrap(), &mut out);
    }
    out
}

fn routes_in(source: &str, out: &mut std::collections::BTreeSet<(String, String)>) {
    let mut rest = source;
    while let Some(i) = rest.find(".route(") {
        rest = &rest[i + ".route(".len()..];
        let start = rest.find('"').unwrap() + 1;
        let end = start + rest[start..].find('"').unwrap();
        let path = rest[start..end].to_owned();
        // The handlers: up to the next route, layer or fallback.
        let upto = [
            ".route(",
            ".merge(",
            ".layer(",
            ".leptos_routes(",
            ".fallback(",
        ]
        .iter()
        .filter_map(|m| rest[end..].find(m))
        .min()
        .map_or(rest.len(), |k| end + k);
        let handlers = &rest[end..upto];
        let before = out.len();
        for (token, method) in [("get(", "GET"), ("post(", "POST")] {
            if handlers.contains(token) {
                out.insert((method.to_owned(), path.clone()));
            }
        }
        assert!(out.len() > before, "no method found for {path}: {handlers}");
    }
}

#[test]
fn the_route_list_names_every_plain_route() {
    let router = routes_in_router();
    assert!(router.len() > 20, "{router:?}");
    let listed: std::collections::BTreeSet<(String, String)> = PLAIN_ROUTES
        .iter()
        .map(|(m, p, _)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    let missing: Vec<_> = router.difference(&listed).collect();
    assert!(
        missing.is_empty(),
        "routes without a line in PLAIN_ROUTES (who may use them, which test shows it): {missing:?}"
    );
    let stale: Vec<_> = listed.difference(&router).collect();
    assert!(
        stale.is_empty(),
        "PLAIN_ROUTES lines without a route: {stale:?}"
    );
}

/// The second table as every role of another organisation, against
/// acme's prepared objects: a call that names one of them never succeeds
/// and never has its effect, and no answer carries acme's data.
async fn nobody_reaches_another_organisations_data_through_the_other_functions(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = spawn_app(&db).await;
    let acme = app.org("acme").await;
    let bravo = app.org("bravo").await;
    let admin = app.client();
    admin.login_ok(&acme.email(Role::Admin)).await;
    // Fields that name an object (or an organisation) by its number.
    const NAMES_AN_OBJECT: &[&str] = &[
        "id",
        "org_id",
        "measure_id",
        "customer_id",
        "subprocessor_id",
        "notice_id",
        "text_id",
        "course_id",
        "item_id",
        "cycle_id",
        "finding_id",
        "targets[0]",
        "from",
    ];
    let mut n = 2000;
    for role in [
        Role::Admin,
        Role::Owner,
        Role::Staff,
        Role::Auditor,
        Role::Customer,
    ] {
        let b = app.client();
        b.login_ok(&bravo.email(role)).await;
        let caller = Caller {
            name: format!("{} {}", role.as_str(), bravo.short),
            email: bravo.email(role),
        };
        for case in more_cases() {
            n += 1;
            let f = fixture(&app, &admin, &acme, n).await;
            let p = prepare(&app, &admin, &acme, &f, case.needs).await;
            let args = (case.args)(&f, &p, &caller);
            let form: Vec<(&str, &str)> = args.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let c = if case.own_client {
                let c = app.client();
                c.login_ok(&bravo.email(role)).await;
                c
            } else {
                b.clone()
            };
            let effect = case.effect.map(|e| e(&f, &p));
            let before = match &effect {
                Some(sql) => count(&app, sql).await,
                None => 0,
            };
            let a = c.call(case.endpoint, &form).await;
            let who = format!("{role:?} of bravo, {}", case.endpoint);
            assert!(
                !a.body.contains("Geheimer Text acme")
                    && !a.body.contains(&acme.email(Role::Admin)),
                "{who} saw acme's data: {}",
                a.body
            );
            if args.iter().any(|(k, _)| NAMES_AN_OBJECT.contains(k)) {
                assert!(
                    !a.status.is_success(),
                    "{who} succeeded with acme's ids: {}",
                    a.body
                );
                if let Some(sql) = &effect {
                    assert_eq!(before, count(&app, sql).await, "{who} changed acme's data");
                }
            }
        }
    }
    app.stop().await;
}
both!(nobody_reaches_another_organisations_data_through_the_other_functions);
