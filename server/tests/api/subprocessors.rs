//! Subprocessors with attestations: who may edit, the measure link, the
//! annex naming them, the certificate upload, expiry on the dashboard.

use app::domain::Role;
use app::reminders::Attention;
use app::state::Clock;
use app::subprocessors::SubprocessorList;
use chrono::Duration;
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};

use crate::annex::pdftotext;
use crate::both;
use crate::catalogue::{catalogue, category_id, create};
use crate::evidence::{PDF, download, upload};
use crate::helpers::*;

async fn subprocessors_attestations_and_the_annex(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = spawn_app(&db).await;
    let org = app.org("acme").await;
    let other = app.org("other").await;
    let admin = app.client();
    admin.login_ok(&org.email(Role::Admin)).await;

    let fields = [
        ("name", "DomainFactory GmbH"),
        ("service", "Rechenzentrumsbetrieb"),
        ("address", "Oskar-Messter-Str. 33, 85737 Ismaning"),
        ("locations", "Deutschland"),
        ("safeguard", "eu"),
        ("status", "active"),
    ];
    // Only admins create; the answer is the new id.
    let owner = app.client();
    owner.login_ok(&org.email(Role::Owner)).await;
    assert_eq!(
        owner.call("subprocessors/save", &fields).await.status,
        StatusCode::FORBIDDEN
    );
    let a = admin.call("subprocessors/save", &fields).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let sub: i32 = a.body.parse().unwrap();
    let bad = admin
        .call(
            "subprocessors/save",
            &[("name", "X"), ("safeguard", "moon"), ("status", "active")],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);

    let until = (app::format::german_day(app.clock.now()) + Duration::days(10))
        .format("%Y-%m-%d")
        .to_string();
    let a = admin
        .call(
            "subprocessors/attestation/add",
            &[
                ("subprocessor_id", &sub.to_string()),
                ("kind", "iso27001"),
                ("issuer", "TÜV Rheinland"),
                ("scope", "Rechenzentren"),
                ("valid_until", &until),
            ],
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let attestation: i32 = a.body.parse().unwrap();

    // The certificate as a file behind the attestation.
    let a = upload(
        &admin,
        Form::new()
            .text("attestation_id", attestation.to_string())
            .text("title", "ISO-27001-Zertifikat")
            .part(
                "file",
                Part::bytes(PDF.to_vec()).file_name("zertifikat.pdf"),
            ),
    )
    .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);

    let measure = create(
        &admin,
        category_id(&catalogue(&admin).await, "3.1"),
        "Die Zutrittskontrolle zum Rechenzentrum erfolgt auf Basis der technischen und organisatorischen Maßnahmen des Rechenzentrumsbetreibers.",
    )
    .await;
    let link = [
        ("measure_id", measure.to_string()),
        ("subprocessor_id", sub.to_string()),
    ];
    let link: Vec<(&str, &str)> = link.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(
        owner.call("subprocessors/link", &link).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        admin.call("subprocessors/link", &link).await.status,
        StatusCode::OK
    );

    let list = admin.call("subprocessors/list", &[]).await;
    let list: SubprocessorList = serde_json::from_str(&list.body).expect(&list.body);
    let s = &list.items[0];
    assert_eq!(s.name, "DomainFactory GmbH");
    assert_eq!(
        s.measures.iter().map(|m| m.id.0).collect::<Vec<_>>(),
        vec![measure]
    );
    let file = s.attestations[0].file_version_id.expect("certificate file");
    assert_eq!(download(&admin, file).await.2, PDF);

    let page = admin.get("/unterauftragsverarbeiter").await;
    assert!(
        page.body.contains("DomainFactory GmbH") && page.body.contains("TÜV Rheinland"),
        "{}",
        page.body
    );
    let page = admin.get(&format!("/massnahmen/{measure}")).await;
    assert!(
        page.body.contains("Beruht auf Unterauftragsverarbeitern")
            && page.body.contains("Nachweise"),
        "{}",
        page.body
    );

    // Another organisation sees none of it and cannot link to it.
    let stranger = app.client();
    stranger.login_ok(&other.email(Role::Admin)).await;
    let theirs = stranger.call("subprocessors/list", &[]).await;
    let theirs: SubprocessorList = serde_json::from_str(&theirs.body).unwrap();
    assert!(theirs.items.is_empty());
    assert_eq!(
        stranger.call("subprocessors/link", &link).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(download(&stranger, file).await.0, StatusCode::NOT_FOUND);

    // The annex names the subprocessor and its current attestation.
    let res = admin
        .http
        .get(format!("{}/anlage/entwurf.pdf", app.address))
        .send()
        .await
        .unwrap();
    let text = pdftotext(&res.bytes().await.unwrap());
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let german_until = (app::format::german_day(app.clock.now()) + Duration::days(10))
        .format("%d.%m.%Y")
        .to_string();
    assert!(
        flat.contains(&format!("Unterauftragsverarbeiter: DomainFactory GmbH; Nachweis: ISO/IEC 27001 (TÜV Rheinland), gültig bis {german_until}.")),
        "{flat}"
    );

    // Expiring within 30 days: on the dashboard.
    let dash = admin.call("reminders/dashboard", &[]).await;
    let dash: Attention = serde_json::from_str(&dash.body).unwrap();
    assert_eq!(dash.attestations_expiring.len(), 1);
    assert_eq!(dash.attestations_expiring[0].kind, "ISO/IEC 27001");

    // Once expired, the annex no longer claims it.
    app.clock.advance(Duration::days(11));
    let res = admin
        .http
        .get(format!("{}/anlage/entwurf.pdf", app.address))
        .send()
        .await
        .unwrap();
    let flat = pdftotext(&res.bytes().await.unwrap())
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        flat.contains("Unterauftragsverarbeiter: DomainFactory GmbH."),
        "{flat}"
    );
    assert!(!flat.contains("ISO/IEC 27001"), "{flat}");
    app.stop().await;
}
both!(subprocessors_attestations_and_the_annex);

/// Anlage 2 of the AVV is a publication of its own: version 1 names the
/// active subprocessors in a signed PDF; an unchanged list makes no version;
/// a change makes the next one and says what changed; the organisation's
/// members (customers included) download it, nobody else.
async fn anlage2_is_a_signed_versioned_publication(backend: Backend) {
    use app::subprocessors::Anlage2Overview;
    let db = TestDb::new(backend).await;
    let app = spawn_app(&db).await;
    let org = app.org("acme").await;
    let other = app.org("bravo").await;
    let admin = app.client();
    admin.login_ok(&org.email(Role::Admin)).await;
    let overview = |c: &Client| {
        let c = c.clone();
        async move {
            let a = c.call("subprocessors/anlage2", &[]).await;
            assert_eq!(a.status, StatusCode::OK, "{}", a.body);
            serde_json::from_str::<Anlage2Overview>(&a.body).unwrap()
        }
    };
    let save = |fields: Vec<(&'static str, &'static str)>| {
        let admin = admin.clone();
        async move {
            let a = admin.call("subprocessors/save", &fields).await;
            assert_eq!(a.status, StatusCode::OK, "{}", a.body);
            a.body
        }
    };
    let hoster = save(vec![
        ("name", "Rechenzentrum #Nord GmbH"),
        ("address", "Hafenstraße 1, 20457 Hamburg"),
        ("service", "Hosting *der* Website"),
        ("locations", "Hamburg, Deutschland"),
        ("safeguard", "eu"),
        ("status", "active"),
    ])
    .await;
    let planned = save(vec![
        ("name", "Planung AG"),
        ("safeguard", "scc"),
        ("status", "planned"),
    ])
    .await;

    let o = overview(&admin).await;
    assert!(o.versions.is_empty() && o.can_publish, "{o:?}");
    assert_eq!(o.pending, vec!["Neu: Rechenzentrum #Nord GmbH"], "{o:?}");
    let a = admin.call("subprocessors/anlage2/publish", &[]).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert_eq!(a.body, "1");

    let res = admin
        .http
        .get(format!("{}/anlage2/v1.pdf", admin.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let etag = res.headers()["etag"].to_str().unwrap().to_owned();
    let pdf = res.bytes().await.unwrap().to_vec();
    let (valid, whole, out) = crate::publish::pdfsig(&pdf);
    assert!(valid && whole, "pdfsig:\n{out}");
    let text = pdftotext(&pdf)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    // Markup in the data is text: `#Nord` and `*der*` appear as typed.
    for expected in [
        "Anlage 2 zum Vertrag über die Auftragsverarbeitung",
        "Rechenzentrum #Nord GmbH",
        "Hafenstraße 1, 20457 Hamburg",
        "Hosting *der* Website",
        "keine Drittlandübermittlung (EU/EWR)",
    ] {
        assert!(text.contains(expected), "{expected:?} in {text}");
    }
    // A planned subprocessor is not (yet) in the list.
    assert!(!text.contains("Planung AG"), "{text}");
    let o = overview(&admin).await;
    assert_eq!(o.versions.len(), 1);
    assert_eq!(o.versions[0].sha256, etag.trim_matches('"'));
    assert!(o.pending.is_empty(), "{o:?}");

    // Unchanged: refused, nothing stored.
    let again = admin.call("subprocessors/anlage2/publish", &[]).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.body);
    assert!(again.body.contains("nichts geändert"), "{}", again.body);
    assert_eq!(overview(&admin).await.versions.len(), 1);

    // A change: version 2 says what changed; version 1 stays as it was.
    let a = admin
        .call(
            "subprocessors/save",
            &[
                ("id", &hoster),
                ("version", "1"),
                ("name", "Rechenzentrum #Nord GmbH"),
                ("address", "Hafenstraße 1, 20457 Hamburg"),
                ("service", "Hosting *der* Website"),
                ("locations", "Frankfurt am Main, Deutschland"),
                ("safeguard", "eu"),
                ("status", "active"),
            ],
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let o = overview(&admin).await;
    assert_eq!(
        o.pending,
        vec!["Geändert: Rechenzentrum #Nord GmbH (Ort der Verarbeitung)"]
    );
    // Without JavaScript the form comes back to the list, which confirms.
    let a = admin
        .post_form(
            "subprocessors/anlage2/publish",
            &[],
            "/unterauftragsverarbeiter",
        )
        .await;
    assert_eq!(a.status, StatusCode::FOUND, "{}", a.body);
    let to = a.headers["location"].to_str().unwrap().to_owned();
    assert_eq!(to, "/unterauftragsverarbeiter?anlage2=2#anlage2");
    let page = admin.get("/unterauftragsverarbeiter?anlage2=2").await.body;
    assert!(page.contains("Veröffentlicht – Version 2"), "{page}");
    assert!(page.contains(r#"href="/anlage2/v1.pdf""#), "{page}");
    let o = overview(&admin).await;
    assert_eq!(o.versions[0].version, 2);
    assert_eq!(
        o.versions[0].changes,
        vec!["Geändert: Rechenzentrum #Nord GmbH (Ort der Verarbeitung)"]
    );
    assert_eq!(o.versions[1].changes, vec!["Neu: Rechenzentrum #Nord GmbH"]);
    let v1 = admin
        .http
        .get(format!("{}/anlage2/v1.pdf", admin.base))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(v1.to_vec(), pdf, "version 1 is never rewritten");

    // The customer sees the current version in the portal and downloads it;
    // staff read but do not publish; another organisation finds nothing.
    let customer = app.client();
    customer.login_ok(&org.email(Role::Customer)).await;
    let portal = customer.get("/portal").await.body;
    assert!(portal.contains(r#"href="/anlage2/v2.pdf""#), "{portal}");
    let res = customer
        .http
        .get(format!("{}/anlage2/v2.pdf", customer.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let staff = app.client();
    staff.login_ok(&org.email(Role::Staff)).await;
    assert!(!overview(&staff).await.can_publish);
    let a = staff.call("subprocessors/anlage2/publish", &[]).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.body);
    let a = customer.call("subprocessors/anlage2", &[]).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.body);
    let stranger = app.client();
    stranger.login_ok(&other.email(Role::Admin)).await;
    let res = stranger
        .http
        .get(format!("{}/anlage2/v1.pdf", stranger.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    // A notice about the planned one: once its objection deadline has
    // passed, the section calls for the next version; an objection holds
    // the change back for that customer, and the section says so.
    let kanzlei = admin
        .call("customers/add", &[("name", "Kanzlei Beispiel")])
        .await;
    assert_eq!(kanzlei.status, StatusCode::OK, "{}", kanzlei.body);
    crate::notices::assign(&app, org.id, org.user_id(Role::Customer), &kanzlei.body).await;
    let deadline = app::format::german_day(app.clock.now()) + Duration::days(14);
    let notice = admin
        .call(
            "notices/issue",
            &[
                ("subprocessor_id", &planned),
                ("deadline", &deadline.to_string()),
            ],
        )
        .await;
    assert_eq!(notice.status, StatusCode::OK, "{}", notice.body);
    let a = customer
        .call(
            "portal/notices/object",
            &[("notice_id", &notice.body), ("reason", "Nicht mit uns.")],
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let o = overview(&admin).await;
    assert!(o.notices_due.is_empty(), "{o:?}");
    assert_eq!(o.blocked.len(), 1, "{o:?}");
    assert!(
        o.blocked[0]
            .starts_with("Kanzlei Beispiel hat der Mitteilung über Planung AG widersprochen")
    );
    app.clock.advance(Duration::days(15));
    let o = overview(&admin).await;
    assert_eq!(o.notices_due.len(), 1, "{o:?}");
    assert!(
        o.notices_due[0].contains("Setzen Sie Planung AG auf „aktiv“"),
        "{o:?}"
    );
    let page = admin.get("/unterauftragsverarbeiter").await.body;
    assert!(page.contains("data-test=\"anlage2-notices-due\""), "{page}");
    assert!(page.contains("data-test=\"anlage2-blocked\""), "{page}");

    // Each publication is in the audit log.
    let log = admin
        .call(
            "audit/page",
            &[("filter[entity]", "anlage2"), ("page", "1")],
        )
        .await;
    assert_eq!(log.status, StatusCode::OK, "{}", log.body);
    let log: app::audit::AuditLogPage = serde_json::from_str(&log.body).unwrap();
    assert_eq!(log.entries.len(), 2, "{log:?}");
    app.stop().await;
}
both!(anlage2_is_a_signed_versioned_publication);
