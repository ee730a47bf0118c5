//! Every server function called as every role, as a stranger, and as a member
//! of another organisation: what is allowed, what is refused, nothing leaks.

use app::domain::Role;
use reqwest::StatusCode;

use crate::both;
use crate::catalogue::{catalogue, category_id, create, measure};
use crate::helpers::*;

/// Objects one call works on, fresh for every caller so that calls don't interfere.
struct Fixture {
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
    let m = create(
        admin,
        measure_category,
        &format!("Geheimer Text {} Nr. {n}", org.short),
    )
    .await;
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
            let a = c.call(case.endpoint, &form).await;
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
            } else {
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
        (
            "GET",
            format!("/nachweise/datei/{}", uploaded.version_id),
            EVIDENCE_READERS,
        ),
        ("GET", "/verpflichtungen.csv".into(), READERS),
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
