//! The draft annex as PDF: what it contains (checked with pdftotext) and who may fetch it.

use app::domain::Role;
use reqwest::StatusCode;

use crate::both;
use crate::catalogue::{catalogue, category_id};
use crate::helpers::*;

pub fn pdftotext(pdf: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("annex.pdf");
    std::fs::write(&path, pdf).unwrap();
    let out = std::process::Command::new("pdftotext")
        .arg(&path)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils)");
    assert!(out.status.success());
    // pdftotext marks hyphenation points with soft hyphens; join those words again.
    String::from_utf8_lossy(&out.stdout)
        .replace("\u{ad}\n", "")
        .replace('\u{ad}', "")
}

async fn draft_annex_lists_implemented_measures_in_catalogue_order(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = spawn_app(&db).await;
    let org = app.org("acme").await;
    let c = app.client();
    c.login_ok(&org.email(Role::Admin)).await;
    let a = c
        .call(
            "orgs/profile/update",
            &[
                ("legal_name", "Acme Hosting GmbH"),
                ("display_short", "Acme"),
                ("address", ""),
                ("dpo_contact", ""),
                (
                    "intro_text",
                    "Acme verarbeitet personenbezogene Daten im Auftrag ihrer Kunden.",
                ),
            ],
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let cat = catalogue(&c).await;
    for (number, body, status) in [
        (
            "3.1",
            "Serverräume sind nur mit Chipkarte zugänglich.",
            "implemented",
        ),
        (
            "2",
            "Festplattenverschlüsselung wird eingeführt.",
            "planned",
        ),
        ("5", "Backups werden täglich geprüft.", "implemented"),
    ] {
        let k = category_id(&cat, number).to_string();
        let a = c
            .call(
                "toms/measure/create",
                &[
                    ("category_id", &k),
                    ("title", ""),
                    ("body", body),
                    ("status", status),
                ],
            )
            .await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    }
    let res = c
        .http
        .get(format!("{}/anlage/entwurf.pdf", c.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "application/pdf");
    let pdf = res.bytes().await.unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
    let text = pdftotext(&pdf);
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    for expected in [
        "Technische und organisatorische Maßnahmen nach Art. 32 DSGVO",
        "ENTWURF",
        "Acme verarbeitet personenbezogene Daten im Auftrag ihrer Kunden.",
        "3. Gewährleistung der Vertraulichkeit",
        "3.1. Zutrittskontrolle",
        "Serverräume sind nur mit Chipkarte zugänglich.",
        "5. Gewährleistung der Verfügbarkeit",
        "Backups werden täglich geprüft.",
        "Acme Hosting GmbH",
        "Stand:",
    ] {
        assert!(flat.contains(expected), "annex lacks {expected:?}:\n{text}");
    }
    assert!(
        !flat.contains("Festplattenverschlüsselung"),
        "a planned measure is in the annex"
    );
    // A section without implemented measures is left out; 3.1 keeps its parent heading.
    assert!(!flat.contains("1. Pseudonymisierung"), "{text}");
    let p3 = flat.find("3. Gewährleistung der Vertraulichkeit").unwrap();
    let p31 = flat.find("3.1. Zutrittskontrolle").unwrap();
    let p5 = flat.find("5. Gewährleistung der Verfügbarkeit").unwrap();
    assert!(p3 < p31 && p31 < p5, "sections out of order");
    app.stop().await;
}
both!(draft_annex_lists_implemented_measures_in_catalogue_order);

async fn only_admins_owners_and_auditors_fetch_the_draft(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = spawn_app(&db).await;
    let org = app.org("acme").await;
    let anon = app.client().get("/anlage/entwurf.pdf").await;
    assert_eq!(anon.status, StatusCode::SEE_OTHER);
    assert!(
        anon.headers["location"]
            .to_str()
            .unwrap()
            .starts_with("/login")
    );
    for (role, ok) in [
        (Role::Customer, false),
        (Role::Staff, false),
        (Role::Owner, true),
        (Role::Auditor, true),
    ] {
        let c = app.client();
        c.login_ok(&org.email(role)).await;
        let res = c
            .http
            .get(format!("{}/anlage/entwurf.pdf", c.base))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().is_success(), ok, "{role:?}: {}", res.status());
        if !ok {
            assert_eq!(res.status(), StatusCode::FORBIDDEN);
        }
    }
    app.stop().await;
}
both!(only_admins_owners_and_auditors_fetch_the_draft);
