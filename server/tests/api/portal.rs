//! The customer portal: the current signed annex with ETag and logged
//! downloads, earlier versions, subprocessors; nothing of other organisations.

use app::domain::Role;
use app::portal::PortalView;
use reqwest::StatusCode;
use sha2::{Digest, Sha256};

use crate::both;
use crate::catalogue::{catalogue, category_id, create};
use crate::helpers::*;

async fn customers_fetch_the_current_annex_and_see_subprocessors(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = spawn_app(&db).await;
    let org = app.org("acme").await;
    let other = app.org("other").await;
    let admin = app.client();
    admin.login_ok(&org.email(Role::Admin)).await;
    create(
        &admin,
        category_id(&catalogue(&admin).await, "3.1"),
        "Besucher werden am Empfang registriert.",
    )
    .await;
    let a = admin.call("annex/publish", &[]).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let sub = admin
        .call(
            "subprocessors/save",
            &[
                ("name", "DomainFactory GmbH"),
                ("locations", "Deutschland"),
                ("safeguard", "eu"),
                ("status", "active"),
            ],
        )
        .await;
    assert_eq!(sub.status, StatusCode::OK, "{}", sub.body);
    let a = admin
        .call(
            "subprocessors/attestation/add",
            &[
                ("subprocessor_id", &sub.body),
                ("kind", "iso27001"),
                ("issuer", "TÜV"),
                ("valid_until", "2030-12-31"),
            ],
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);

    let customer = app.client();
    customer.login_ok(&org.email(Role::Customer)).await;
    let v = customer.call("portal/overview", &[]).await;
    let v: PortalView = serde_json::from_str(&v.body).expect(&v.body);
    let current = v.current.expect("a published version");
    assert_eq!(current.version, 1);
    assert_eq!(v.subprocessors.len(), 1);
    assert_eq!(v.subprocessors[0].attestations[0].kind, "ISO/IEC 27001");
    assert_eq!(v.subprocessors[0].attestations[0].valid_until, "2030-12-31");
    let page = customer.get("/portal").await;
    assert!(
        page.body.contains("Signierte Anlage herunterladen") && page.body.contains(&current.sha256),
        "{}",
        page.body
    );

    // The stored bytes, with their hash as ETag; a conditional GET is answered 304.
    let url = format!("{}/portal/anlage/v1.pdf", app.address);
    let res = customer.http.get(&url).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let etag = res.headers()["etag"].to_str().unwrap().to_owned();
    assert_eq!(etag, format!("\"{}\"", current.sha256));
    assert!(
        res.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    let pdf = res.bytes().await.unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
    assert_eq!(hex::encode(Sha256::digest(&pdf)), current.sha256);
    let res = customer
        .http
        .get(&url)
        .header("If-None-Match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_MODIFIED);
    assert!(res.bytes().await.unwrap().is_empty());

    // The DPO sees who fetched which version (once: the 304 delivered nothing).
    let log = admin
        .call(
            "audit/list",
            &[
                ("filter[entity]", "annex"),
                ("filter[action]", "download"),
                ("filter[actor]", ""),
            ],
        )
        .await;
    let log: Vec<app::audit::AuditEntry> = serde_json::from_str(&log.body).expect(&log.body);
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].actor, org.email(Role::Customer));
    assert_eq!(log[0].entity_id, "1");

    // Customers stay out of the internal routes; other organisations' customers out of this one.
    assert_eq!(
        customer
            .http
            .get(format!("{}/anlage/v1.pdf", app.address))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        customer.call("subprocessors/list", &[]).await.status,
        StatusCode::FORBIDDEN
    );
    let stranger = app.client();
    stranger.login_ok(&other.email(Role::Customer)).await;
    assert_eq!(
        stranger.http.get(&url).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    let theirs = stranger.call("portal/overview", &[]).await;
    let theirs: PortalView = serde_json::from_str(&theirs.body).unwrap();
    assert!(theirs.current.is_none() && theirs.subprocessors.is_empty());
    assert_eq!(theirs.org_name, "other GmbH");
    // Not signed in: to the login.
    let anon = app.client();
    assert!(
        anon.http
            .get(&url)
            .send()
            .await
            .unwrap()
            .status()
            .is_redirection()
    );
    app.stop().await;
}
both!(customers_fetch_the_current_annex_and_see_subprocessors);
