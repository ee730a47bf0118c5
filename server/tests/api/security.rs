//! The findings of the security review, one regression test each: the
//! login throttle under parallel guesses and per client address, the
//! redirect after login, invitations for existing accounts, cross-origin
//! writes, forged client addresses, fake download records, security
//! headers, secrets in the request log.

use std::sync::{Arc, Mutex};

use app::domain::Role;
use app::entities::{audit_log, login_throttle, memberships, pledge_signatures};
use app::state::Clock;
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

use crate::both;
use crate::helpers::*;

/// Sixty wrong passwords at once used to be checked all sixty (the counter
/// was read before and written after argon2): now each attempt is counted
/// before its password is checked, so at most the free attempts are.
async fn parallel_guesses_cannot_outrun_the_throttle(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = spawn_app(&db).await;
    let org = app.org("acme").await;
    let email = org.email(Role::Admin);
    let tries = (0..60).map(|_| {
        let c = app.client();
        let email = email.clone();
        tokio::spawn(async move { c.login(&email, "wrong password").await.status })
    });
    let statuses: Vec<StatusCode> = futures::future::join_all(tries)
        .await
        .into_iter()
        .map(|r| r.unwrap())
        .collect();
    let checked = statuses
        .iter()
        .filter(|s| **s == StatusCode::UNAUTHORIZED)
        .count();
    let throttled = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!(checked + throttled, 60, "{statuses:?}");
    assert!(
        checked <= 5,
        "{checked} passwords were checked: {statuses:?}"
    );
    let row = login_throttle::Entity::find_by_id(email.clone())
        .one(&app.db)
        .await
        .unwrap()
        .expect("counted");
    assert!(row.failures >= 5, "{}", row.failures);
    app.stop().await;
}
both!(parallel_guesses_cannot_outrun_the_throttle);

/// One client trying many addresses is slowed down too; a garbage address
/// (1 MB) is no key; old rows are swept.
async fn one_client_address_is_throttled_across_accounts(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = spawn_app(&db).await;
    let c = app.client();
    let mut statuses = Vec::new();
    for i in 0..32 {
        statuses.push(
            c.login(&format!("nobody{i}@acme.example"), "x")
                .await
                .status,
        );
    }
    assert!(
        statuses[..30]
            .iter()
            .all(|s| *s == StatusCode::UNAUTHORIZED),
        "{statuses:?}"
    );
    assert_eq!(statuses[31], StatusCode::TOO_MANY_REQUESTS, "{statuses:?}");
    // Another client address is not affected; this one waits.
    app.clock.advance(chrono::Duration::minutes(20));
    let huge = "a".repeat(1 << 20);
    let a = c.login(&huge, "x").await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    let rows = login_throttle::Entity::find().all(&app.db).await.unwrap();
    assert!(
        rows.iter().all(|r| r.key.len() <= 254),
        "a huge key was stored"
    );
    app.clock.advance(chrono::Duration::hours(1));
    let swept = app::auth::service::sweep_throttle(&app.db, app.clock.now())
        .await
        .unwrap();
    assert!(swept > 30, "{swept}");
    assert_eq!(
        login_throttle::Entity::find().count(&app.db).await.unwrap(),
        0
    );
    app.stop().await;
}
both!(one_client_address_is_throttled_across_accounts);

/// `next` after login: only same-origin paths, nothing a browser would
/// turn into another host, and a line feed is no crash.
async fn the_redirect_after_login_stays_on_the_site(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = spawn_app(&db).await;
    let org = app.org("acme").await;
    for (next, expected) in [
        ("/massnahmen", "/massnahmen"),
        ("/\t/evil.example", "/"),
        ("/%09/evil.example", "/"),
        ("//evil.example", "/"),
        ("/\\evil.example", "/"),
        ("https://evil.example/", "/"),
        ("/massnahmen\nSet-Cookie: x=1", "/"),
    ] {
        let c = app.client();
        let a = c
            .post_form(
                "auth/login",
                &[
                    ("email", &org.email(Role::Admin)),
                    ("password", PASSWORD),
                    ("next", next),
                ],
                "/login",
            )
            .await;
        assert!(
            a.status.is_redirection(),
            "{next:?}: {} {}",
            a.status,
            a.body
        );
        let location = a
            .headers
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        assert_eq!(location, expected, "{next:?}");
    }
    app.stop().await;
}
both!(the_redirect_after_login_stays_on_the_site);

/// An invitation to an address that has an account: the invitation
/// neither reveals that nor checks a password (that was an unthrottled
/// password oracle); the person accepts signed in.
async fn invitations_for_existing_accounts_check_no_password(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = spawn_app(&db).await;
    let inviter_org = app.org("fremd").await;
    let target = app.org("ziel").await;
    let inviter = app.client();
    inviter.login_ok(&inviter_org.email(Role::Admin)).await;
    let victim = target.email(Role::Admin);
    let a = inviter
        .call("orgs/invite", &[("email", &victim), ("role", "staff")])
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let link: String = serde_json::from_str(&a.body).unwrap();
    let token = link.rsplit('/').next().unwrap().to_owned();

    let guest = app.client();
    let info = guest.call("orgs/invitation", &[("token", &token)]).await;
    assert_eq!(info.status, StatusCode::OK);
    assert!(!info.body.contains("has_account"), "{}", info.body);
    // Guessing: every try gets the same answer, the right password too.
    let mut bodies = Vec::new();
    for password in ["falsch-1234567", "falsch-7654321", PASSWORD] {
        let a = guest
            .call(
                "orgs/invitation/accept",
                &[
                    ("token", &token),
                    ("display_name", "X"),
                    ("password", password),
                ],
            )
            .await;
        assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", a.body);
        bodies.push(a.body);
    }
    assert!(bodies.iter().all(|b| *b == bodies[0]), "{bodies:?}");
    assert_eq!(guest.call("auth/me", &[]).await.body, "null");
    let member_of = |app: &TestApp, user: app::ids::UserId| {
        let db = app.db.clone();
        async move {
            memberships::Entity::find()
                .filter(memberships::Column::UserId.eq(user))
                .count(&db)
                .await
                .unwrap()
        }
    };
    assert_eq!(member_of(&app, target.user_id(Role::Admin)).await, 1);
    // Signed in as the invited person: accepted without a password.
    let me = app.client();
    me.login_ok(&victim).await;
    let info = me.call("orgs/invitation", &[("token", &token)]).await;
    assert!(info.body.contains(&victim), "{}", info.body);
    let a = me
        .call("orgs/invitation/accept", &[("token", &token)])
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert_eq!(member_of(&app, target.user_id(Role::Admin)).await, 2);
    app.stop().await;
}
both!(invitations_for_existing_accounts_check_no_password);

async fn send_with(
    c: &Client,
    endpoint: &str,
    form: &[(&str, &str)],
    headers: &[(&str, &str)],
) -> StatusCode {
    let mut req = c
        .http
        .post(format!("{}/api/{endpoint}", c.base))
        .header("Accept", "application/json")
        .form(form);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.send().await.unwrap().status()
}

/// A write another site's page sends is refused (login CSRF, a sibling
/// subdomain posting); this site's own and non-browser clients pass.
async fn cross_origin_writes_are_refused(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = spawn_app(&db).await;
    let org = app.org("acme").await;
    let c = app.client();
    let login = [
        ("email", org.email(Role::Admin)),
        ("password", PASSWORD.to_owned()),
    ];
    let login: Vec<(&str, &str)> = login.iter().map(|(k, v)| (*k, v.as_str())).collect();
    for headers in [
        vec![("Origin", "https://evil.example")],
        vec![("Origin", "http://sub.127.0.0.1.nip.example")],
        vec![("Origin", "null")],
        vec![("Sec-Fetch-Site", "cross-site")],
        vec![("Sec-Fetch-Site", "same-site")],
    ] {
        assert_eq!(
            send_with(&c, "auth/login", &login, &headers).await,
            StatusCode::FORBIDDEN,
            "{headers:?}"
        );
    }
    assert_eq!(c.call("auth/me", &[]).await.body, "null");
    // The refusal is a response of this site like any other: it carries
    // the headers every response carries.
    let refused = c
        .http
        .post(format!("{}/api/auth/login", c.base))
        .header("Origin", "https://evil.example")
        .form(&login)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    for name in [
        "x-frame-options",
        "content-security-policy",
        "x-content-type-options",
    ] {
        assert!(
            refused.headers().contains_key(name),
            "refusal without {name}"
        );
    }
    let own = app.address.clone();
    assert_eq!(
        send_with(
            &c,
            "auth/login",
            &login,
            &[("Origin", &own), ("Sec-Fetch-Site", "same-origin")]
        )
        .await,
        StatusCode::OK
    );
    app.stop().await;
}
both!(cross_origin_writes_are_refused);

/// The client address recorded with a pledge is the connection's, unless
/// the connection is a proxy the operator trusts; a forged header is
/// never recorded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recorded_client_addresses_cannot_be_forged() {
    for trusted in [false, true] {
        let db = TestDb::new(Backend::Sqlite).await;
        let mut config = config_for(&db);
        if trusted {
            config.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
        }
        #[allow(clippy::disallowed_methods)]
        let clock = Arc::new(TestClock::at(chrono::Utc::now()));
        let app = spawn_with(config, clock).await;
        let org = app.org("acme").await;
        let admin = app.client();
        admin.login_ok(&org.email(Role::Admin)).await;
        let o: app::pledges::PledgeOverview =
            serde_json::from_str(&admin.call("pledges/overview", &[]).await.body).unwrap();
        let a = admin
            .call(
                "pledges/publish",
                &[("title", &o.draft_title), ("body", &o.draft_body)],
            )
            .await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.body);
        let staff = app.client();
        staff.login_ok(&org.email(Role::Staff)).await;
        let mine: app::pledges::MyPledge =
            serde_json::from_str(&staff.call("pledges/mine", &[]).await.body).unwrap();
        let text = mine.current.unwrap();
        let res = staff
            .http
            .post(format!("{}/api/pledges/sign", app.address))
            .header("Accept", "application/json")
            .header("X-Forwarded-For", "6.6.6.6, 198.51.100.7")
            .form(&[
                ("text_id", text.id.to_string().as_str()),
                ("text_sha256", text.sha256.as_str()),
                ("typed_name", "staff acme"),
                ("password", PASSWORD),
                ("confirm", "ja"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(
            res.status(),
            StatusCode::OK,
            "{}",
            res.text().await.unwrap()
        );
        let row = pledge_signatures::Entity::find()
            .one(&app.db)
            .await
            .unwrap()
            .unwrap();
        let expected = if trusted { "198.51.100.7" } else { "127.0.0.1" };
        assert_eq!(row.client_ip, expected, "trusted proxy: {trusted}");
        app.stop().await;
    }
}

/// A navigation another site starts does not write a download record.
async fn other_sites_cannot_add_download_records(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = spawn_app(&db).await;
    let org = app.org("acme").await;
    let admin = app.client();
    admin.login_ok(&org.email(Role::Admin)).await;
    crate::catalogue::create(
        &admin,
        crate::catalogue::category_id(&crate::catalogue::catalogue(&admin).await, "3.1"),
        "Besucher werden am Empfang registriert.",
    )
    .await;
    let a = admin.call("annex/publish", &[]).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let customer = app.client();
    customer.login_ok(&org.email(Role::Customer)).await;
    let downloads = |app: &TestApp| {
        let db = app.db.clone();
        async move {
            audit_log::Entity::find()
                .filter(audit_log::Column::Action.eq("download"))
                .count(&db)
                .await
                .unwrap()
        }
    };
    let before = downloads(&app).await;
    let url = format!("{}/portal/anlage/v1.pdf", app.address);
    for site in ["cross-site", "same-site"] {
        let res = customer
            .http
            .get(&url)
            .header("Sec-Fetch-Site", site)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{site}");
    }
    assert_eq!(downloads(&app).await, before);
    for site in [Some("same-origin"), Some("none"), None] {
        let mut req = customer.http.get(&url);
        if let Some(site) = site {
            req = req.header("Sec-Fetch-Site", site);
        }
        let res = req.send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{site:?}");
    }
    assert_eq!(downloads(&app).await, before + 3);
    app.stop().await;
}
both!(other_sites_cannot_add_download_records);

/// Pages carry a Content-Security-Policy whose nonce is the one on their
/// scripts; every response carries the other security headers.
async fn pages_carry_a_nonce_policy_and_security_headers(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = spawn_app(&db).await;
    let a = app.client().get("/login").await;
    assert_eq!(a.status, StatusCode::OK);
    let csp = a
        .headers
        .get("content-security-policy")
        .expect("CSP")
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("default-src 'none'"), "{csp}");
    assert!(csp.contains("connect-src 'self'"), "{csp}");
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .and_then(|r| r.split('\'').next())
        .expect("a nonce");
    assert!(nonce.len() >= 16, "{nonce}");
    assert!(
        a.body.contains(&format!("nonce=\"{nonce}\"")),
        "the hydration script carries the nonce"
    );
    for script in a.body.split("<script").skip(1) {
        let tag = &script[..script.find('>').unwrap()];
        assert!(tag.contains(&format!("nonce=\"{nonce}\"")), "<script{tag}>");
    }
    // A new response, a new nonce.
    let b = app.client().get("/login").await;
    assert_ne!(
        b.headers
            .get("content-security-policy")
            .unwrap()
            .to_str()
            .unwrap(),
        csp
    );
    for h in [
        "permissions-policy",
        "cross-origin-opener-policy",
        "x-content-type-options",
    ] {
        assert!(a.headers.contains_key(h), "{h}");
    }
    // Plain http: no HSTS (it would pin the name to https).
    assert!(!a.headers.contains_key("strict-transport-security"));
    let health = app.client().get("/healthz").await;
    let csp = health
        .headers
        .get("content-security-policy")
        .unwrap()
        .to_str()
        .unwrap();
    assert!(!csp.contains("script-src"), "{csp}");
    app.stop().await;
}
both!(pages_carry_a_nonce_policy_and_security_headers);

/// The request log never holds a one-time token. The test process's
/// global subscriber (no other test sets one) collects the log lines.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_request_log_holds_no_tokens() {
    #[derive(Clone)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Buffer {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let buffer = Buffer(Arc::new(Mutex::new(Vec::new())));
    let writer = buffer.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter("nachweis::http=info")
        .with_writer(move || writer.clone())
        .finish();
    tracing::subscriber::set_global_default(subscriber).expect("the only subscriber");
    let db = TestDb::new(Backend::Sqlite).await;
    let app = spawn_app(&db).await;
    let c = app.client();
    let secret = "f00dfeedf00dfeedf00dfeedf00dfeedf00dfeedf00dfeedf00dfeedf00dfeed";
    for path in [
        format!("/anmeldelink/{secret}"),
        format!("/einladung/{secret}"),
    ] {
        c.get(&path).await;
    }
    let _ = c
        .http
        .post(format!("{}/anmeldelink", app.address))
        .form(&[("token", secret)])
        .send()
        .await
        .unwrap();
    app.stop().await;
    let log = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
    assert!(log.contains("/anmeldelink/<token>"), "log: {log}");
    assert!(log.contains("/einladung/<token>"), "{log}");
    assert!(!log.contains(secret), "{log}");
}
