//! One-time login links for customer contacts without SSO: mailed through
//! the real SMTP server process, used once, expiring after 30 minutes, and
//! the same answer for addresses nobody registered.

use app::domain::Role;
use app::entities::{login_links, memberships, outbox, users};
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use server::mailer::{Mailer, send_due};

use crate::both;
use crate::helpers::*;
use crate::peers::SmtpSink;

async fn queued_links(app: &TestApp) -> u64 {
    outbox::Entity::find()
        .filter(outbox::Column::Kind.eq("login_link"))
        .count(&app.db)
        .await
        .unwrap()
}

/// Delivers the outbox and returns the token of the newest link mailed to `to`.
async fn mailed_token(app: &TestApp, sink: &SmtpSink, to: &str) -> String {
    let mailer = Mailer::new(&sink.smtp_config()).unwrap();
    send_due(
        &app.db,
        &mailer,
        app::state::Clock::now(app.clock.as_ref()),
        "node-a",
    )
    .await
    .unwrap();
    let msg = sink
        .messages()
        .into_iter()
        .rev()
        .find(|m| m.to == to)
        .expect("a link mail");
    let start = msg.text.find("/anmeldelink/").expect(&msg.text) + "/anmeldelink/".len();
    msg.text[start..start + 64].to_owned()
}

async fn redeem(c: &Client, token: &str) -> (StatusCode, String) {
    let res = c
        .http
        .post(format!("{}/anmeldelink", c.base))
        .form(&[("token", token)])
        .send()
        .await
        .unwrap();
    let status = res.status();
    let loc = res
        .headers()
        .get(reqwest::header::LOCATION)
        .map(|l| l.to_str().unwrap().to_owned());
    (status, loc.unwrap_or(res.text().await.unwrap()))
}

async fn a_contact_signs_in_once_with_a_mailed_link(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = spawn_app(&db).await;
    let org = app.org("acme").await;
    let admin = app.client();
    admin.login_ok(&org.email(Role::Admin)).await;
    let customer = admin
        .call("customers/add", &[("name", "Kanzlei Hoffmann")])
        .await;
    assert_eq!(customer.status, StatusCode::OK, "{}", customer.body);
    let a = admin
        .call(
            "customers/contact/add",
            &[
                ("customer_id", &customer.body),
                ("name", "Lena Hoffmann"),
                ("email", "lena@kanzlei.example"),
                ("locale", "de"),
            ],
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let sink = SmtpSink::start();
    let users_before = users::Entity::find().count(&app.db).await.unwrap();

    // Nobody's address: the same answer, nothing queued, nothing stored.
    let anon = app.client();
    let a = anon
        .call("auth/login-link", &[("email", "niemand@kanzlei.example")])
        .await;
    assert!(
        a.status.is_success() || a.status.is_redirection(),
        "{}",
        a.body
    );
    assert_eq!(queued_links(&app).await, 0);
    assert_eq!(login_links::Entity::find().count(&app.db).await.unwrap(), 0);
    // A malformed address is a validation error, not a silent success.
    let a = anon
        .call("auth/login-link", &[("email", "kein-at-zeichen")])
        .await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", a.body);

    let a = anon
        .call("auth/login-link", &[("email", "Lena@Kanzlei.example")])
        .await;
    assert!(
        a.status.is_success() || a.status.is_redirection(),
        "{}",
        a.body
    );
    assert_eq!(queued_links(&app).await, 1);
    let token = mailed_token(&app, &sink, "lena@kanzlei.example").await;
    let msg = sink.messages().pop().unwrap();
    assert!(msg.subject.contains("Anmeldelink"), "{}", msg.subject);
    assert!(msg.text.contains("30 Minuten"), "{}", msg.text);
    // Only the hash is kept.
    let row = login_links::Entity::find()
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_ne!(row.token_sha256, token);

    // Opening the link (as a mail scanner would) uses nothing up.
    let browser = app.client();
    for _ in 0..2 {
        let page = browser.get(&format!("/anmeldelink/{token}")).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains("Jetzt anmelden"), "{}", page.body);
    }
    let (status, target) = redeem(&browser, &token).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{target}");
    assert_eq!(target, "/portal");
    let me: Option<app::auth::CurrentUser> =
        serde_json::from_str(&browser.call("auth/me", &[]).await.body).unwrap();
    let me = me.expect("signed in");
    assert_eq!(me.email, "lena@kanzlei.example");
    assert_eq!(me.display_name, "Lena Hoffmann");
    assert_eq!(me.org.role, Role::Customer);
    let m = memberships::Entity::find()
        .filter(memberships::Column::UserId.eq(me.user_id))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(m.customer_id, Some(customer.body.parse().unwrap()));
    assert!(
        browser
            .call("portal/overview", &[])
            .await
            .status
            .is_success()
    );

    // Used twice: refused, also from another browser.
    let other = app.client();
    let (status, body) = redeem(&other, &token).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("schon verwendet"), "{body}");
    assert_eq!(other.call("auth/me", &[]).await.body, "null");
    assert_eq!(
        other.get(&format!("/anmeldelink/{token}")).await.status,
        StatusCode::BAD_REQUEST
    );

    // After 30 minutes a link is dead.
    let a = anon
        .call("auth/login-link", &[("email", "lena@kanzlei.example")])
        .await;
    assert!(a.status.is_success() || a.status.is_redirection());
    let late = mailed_token(&app, &sink, "lena@kanzlei.example").await;
    assert_ne!(late, token);
    app.clock.advance(chrono::Duration::minutes(31));
    let (status, body) = redeem(&other, &late).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("abgelaufen"), "{body}");

    // Made-up and malformed tokens.
    for bad in ["0".repeat(64), "zz".into(), String::new()] {
        let (status, body) = redeem(&other, &bad).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
        assert!(body.contains("ungültig"), "{body}");
    }
    assert_eq!(other.call("auth/me", &[]).await.body, "null");

    // At most three open links per address: no mail bombing.
    for _ in 0..5 {
        anon.call("auth/login-link", &[("email", "lena@kanzlei.example")])
            .await;
    }
    let open = login_links::Entity::find()
        .filter(login_links::Column::UsedAt.is_null())
        .filter(login_links::Column::ExpiresAt.gt(app::state::Clock::now(app.clock.as_ref())))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(open, 3);
    // One person was created, by the one link that was used.
    assert_eq!(
        users::Entity::find().count(&app.db).await.unwrap(),
        users_before + 1
    );
    app.stop().await;
}
both!(a_contact_signs_in_once_with_a_mailed_link);
