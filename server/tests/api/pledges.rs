//! Confidentiality pledges: signing with full name and password, the
//! record and its PDF copy never change, a new text version must be signed
//! again, nobody signs for someone else or reads another's copy.

use app::domain::Role;
use app::entities::{pledge_signatures, pledge_texts};
use app::error::AppError;
use app::pledges::{MyPledge, PledgeOverview};
use reqwest::StatusCode;
use sea_orm::EntityTrait;
use sha2::{Digest, Sha256};

use crate::both;
use crate::helpers::*;
use crate::publish::annex_text;

fn invalid_field(a: &Answer) -> String {
    match a.error() {
        Some(AppError::Invalid { field, .. }) => field,
        other => panic!("expected a validation error, got {other:?} ({})", a.body),
    }
}

pub async fn mine(c: &Client) -> MyPledge {
    let a = c.call("pledges/mine", &[]).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    serde_json::from_str(&a.body).unwrap()
}

pub async fn overview(c: &Client) -> PledgeOverview {
    let a = c.call("pledges/overview", &[]).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    serde_json::from_str(&a.body).unwrap()
}

async fn download(c: &Client, id: app::ids::SignatureId) -> (StatusCode, Vec<u8>) {
    let res = c
        .http
        .get(format!("{}/verpflichtung/{id}.pdf", c.base))
        .send()
        .await
        .unwrap();
    (res.status(), res.bytes().await.unwrap().to_vec())
}

async fn pledges_are_signed_once_per_version_and_never_change(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = spawn_app(&db).await;
    let org = app.org("acme").await;
    let other = app.org("other").await;
    let admin = app.client();
    admin.login_ok(&org.email(Role::Admin)).await;
    let staff = app.client();
    staff.login_ok(&org.email(Role::Staff)).await;

    let p = mine(&staff).await;
    assert!(p.current.is_none() && p.must_sign);
    let o = overview(&admin).await;
    assert_eq!(
        o.summary,
        "Es ist noch kein Text der Verpflichtung festgelegt."
    );
    assert!(
        o.draft_body.contains("acme GmbH"),
        "the default text, filled in"
    );
    assert_eq!(
        staff
            .call("pledges/publish", &[("title", "X"), ("body", "Y")])
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let body = o.draft_body.clone();
    let a = admin
        .call(
            "pledges/publish",
            &[
                ("title", &o.draft_title),
                ("body", &body),
                ("stgb203", "ja"),
            ],
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);

    let p = mine(&staff).await;
    let text = p.current.clone().expect("version 1");
    assert_eq!(text.version, 1);
    assert_eq!(text.clauses, ["stgb203"]);
    assert!(text.blocks.iter().any(|b| b.text.contains("§ 203 StGB")));
    let id = text.id.to_string();
    let name = "staff acme".to_owned();
    let sign = |form: Vec<(&'static str, String)>| {
        let staff = staff.clone();
        async move {
            let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            staff.call("pledges/sign", &form).await
        }
    };
    let good = vec![
        ("text_id", id.clone()),
        ("text_sha256", text.sha256.clone()),
        ("typed_name", name.clone()),
        ("password", PASSWORD.to_owned()),
        ("confirm", "ja".to_owned()),
    ];
    let with = |k: &'static str, v: &str| {
        good.iter()
            .map(|(gk, gv)| (*gk, if *gk == k { v.to_owned() } else { gv.clone() }))
            .collect::<Vec<_>>()
    };
    // Someone else's name, a wrong password, no confirmation, a stale text: refused.
    assert_eq!(
        invalid_field(&sign(with("typed_name", "admin acme")).await),
        "typed_name"
    );
    assert_eq!(
        invalid_field(&sign(with("password", "wrong password")).await),
        "password"
    );
    assert_eq!(invalid_field(&sign(with("confirm", "")).await), "confirm");
    assert_eq!(
        invalid_field(&sign(with("text_sha256", &"0".repeat(64))).await),
        "text_sha256"
    );
    assert!(
        pledge_signatures::Entity::find()
            .all(&app.db)
            .await
            .unwrap()
            .is_empty(),
        "nothing stored"
    );
    // Auditors and customers do not sign; another organisation's text is not found.
    for role in [Role::Auditor, Role::Customer] {
        let c = app.client();
        c.login_ok(&org.email(role)).await;
        let form: Vec<(&str, &str)> = good.iter().map(|(k, v)| (*k, v.as_str())).collect();
        assert_eq!(
            c.call("pledges/sign", &form).await.status,
            StatusCode::FORBIDDEN
        );
    }
    let stranger = app.client();
    stranger.login_ok(&other.email(Role::Staff)).await;
    let form = with("typed_name", "staff other");
    let refs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(
        stranger.call("pledges/sign", &refs).await.status,
        StatusCode::NOT_FOUND
    );

    // Signing: name typed in any case and spacing, the own password.
    let a = sign(with("typed_name", "  STAFF   acme ")).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let sig: app::ids::SignatureId = a.body.parse().unwrap();
    let a = sign(good.clone()).await;
    assert!(a.body.contains("bereits unterschrieben"), "{}", a.body);

    let p = mine(&staff).await;
    let signed = p.signed.clone().expect("signed");
    assert_eq!(signed.version, 1);
    let (status, pdf) = download(&staff, sig).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(hex::encode(Sha256::digest(&pdf)), signed.pdf_sha256);
    // Signed by the organisation, with the audit head at signing (issue 15).
    crate::audit::assert_anchored(&app, &db, "pledge_signatures", sig, &pdf, "signed pledge").await;
    let text_pdf = annex_text(&pdf);
    for needle in [
        "Verpflichtung auf die Vertraulichkeit",
        "staff acme",
        "§ 203 StGB",
        &text.sha256,
        "Passwort des Kontos",
    ] {
        assert!(text_pdf.contains(needle), "{needle}: {text_pdf}");
    }
    // The DPO and auditors read it; colleagues and other organisations do not.
    for (role, c_org, want) in [
        (Role::Admin, &org, StatusCode::OK),
        (Role::Auditor, &org, StatusCode::OK),
        (Role::Owner, &org, StatusCode::NOT_FOUND),
        (Role::Admin, &other, StatusCode::NOT_FOUND),
    ] {
        let c = app.client();
        c.login_ok(&c_org.email(role)).await;
        assert_eq!(
            download(&c, sig).await.0,
            want,
            "{role:?} of {}",
            c_org.short
        );
    }
    let o = overview(&admin).await;
    assert_eq!(
        o.summary,
        "Verpflichtung auf die Vertraulichkeit: 1 von 3 Mitarbeitenden verpflichtet (Fassung 1)."
    );
    let csv = admin.get("/verpflichtungen.csv").await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(
        csv.body.contains("staff acme;staff@acme.example;"),
        "{}",
        csv.body
    );
    assert!(csv.body.contains(";verpflichtet;1;"), "{}", csv.body);
    assert_eq!(
        staff.get("/verpflichtungen.csv").await.status,
        StatusCode::FORBIDDEN
    );

    // The same text again is no new version; a changed one must be signed again.
    let a = admin
        .call(
            "pledges/publish",
            &[
                ("title", &o.draft_title),
                ("body", &body),
                ("stgb203", "ja"),
            ],
        )
        .await;
    assert_eq!(invalid_field(&a), "body");
    let a = admin
        .call(
            "pledges/publish",
            &[
                ("title", &o.draft_title),
                (
                    "body",
                    &format!("{body}\n\nNeu: Auch Fotos vom Bildschirm sind tabu."),
                ),
            ],
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let p = mine(&staff).await;
    assert_eq!(p.current.as_ref().map(|t| t.version), Some(2));
    assert!(p.signed.is_none());
    assert_eq!(p.earlier.len(), 1);
    let o = overview(&admin).await;
    let row = o.rows.iter().find(|r| r.name == "staff acme").unwrap();
    assert_eq!(row.state.as_str(), "outdated");
    // The signed copy of version 1 is unchanged, byte for byte.
    let (_, again) = download(&staff, sig).await;
    assert_eq!(again, pdf);
    let stored = pledge_signatures::Entity::find_by_id(sig)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    // The signature names the text that was signed: its hash, recomputed
    // here from the stored version 1 (title, blank line, body), is the one
    // the signer was shown.
    let signed_text = pledge_texts::Entity::find_by_id(text.id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(signed_text.version, 1);
    let recomputed = hex::encode(Sha256::digest(
        format!("{}\n\n{}", signed_text.title, signed_text.body).as_bytes(),
    ));
    assert_eq!(stored.text_sha256, recomputed);
    assert_eq!(text.sha256, recomputed);
    assert_eq!(hex::encode(Sha256::digest(&stored.pdf)), stored.pdf_sha256);
    app.stop().await;
}
both!(pledges_are_signed_once_per_version_and_never_change);
