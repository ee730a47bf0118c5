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
