//! Login, logout, throttling, sessions across restarts, expiry.

use app::domain::Role;
use app::error::AppError;
use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, EntityTrait, Set};

use crate::both;
use crate::helpers::*;

async fn login_and_logout(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = spawn_app(&db).await;
    let org = app.org("acme").await;
    let c = app.client();

    let a = c.login(&org.email(Role::Admin), PASSWORD).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let cookie = a
        .headers
        .get("set-cookie")
        .expect("session cookie")
        .to_str()
        .unwrap()
        .to_owned();
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(
        !cookie.contains("Secure"),
        "plain http must not set Secure: {cookie}"
    );

    let me = c.call("auth/me", &[]).await;
    assert!(me.body.contains(&org.email(Role::Admin)), "{}", me.body);

    c.call("auth/logout", &[]).await;
    let me = c.call("auth/me", &[]).await;
    assert_eq!(me.body, "null");
    let cat = c.call("toms/catalogue", &[]).await;
    assert_eq!(cat.status, StatusCode::UNAUTHORIZED);
    assert_eq!(cat.error(), Some(AppError::Unauthenticated));
    app.stop().await;
}
both!(login_and_logout);

async fn wrong_password_unknown_user_and_locked_account_look_the_same(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = spawn_app(&db).await;
    let org = app.org("acme").await;
    // lock the staff account
    let staff = app::entities::users::Entity::find_by_id(org.user_id(Role::Staff))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let mut am: app::entities::users::ActiveModel = staff.into();
    am.locked = Set(true);
    sea_orm::ActiveModelTrait::update(am, &app.db)
        .await
        .unwrap();

    let c = app.client();
    let wrong = c.login(&org.email(Role::Admin), "not the password").await;
    let unknown = c.login("nobody@acme.example", PASSWORD).await;
    let locked = c.login(&org.email(Role::Staff), PASSWORD).await;
    for a in [&wrong, &unknown, &locked] {
        assert_eq!(a.status, StatusCode::UNAUTHORIZED);
        assert_eq!(a.error(), Some(AppError::LoginFailed));
    }
    assert_eq!(wrong.body, unknown.body);
    assert_eq!(wrong.body, locked.body);
    app.stop().await;
}
both!(wrong_password_unknown_user_and_locked_account_look_the_same);

async fn repeated_failures_are_throttled(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = spawn_app(&db).await;
    let org = app.org("acme").await;
    let c = app.client();
    for _ in 0..5 {
        assert_eq!(
            c.login(&org.email(Role::Admin), "wrong").await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    // Even the right password waits now …
    let a = c.login(&org.email(Role::Admin), PASSWORD).await;
    assert_eq!(a.status, StatusCode::TOO_MANY_REQUESTS, "{}", a.body);
    assert!(matches!(a.error(), Some(AppError::Throttled(_))));
    // … and the same holds for addresses without an account (no enumeration).
    for _ in 0..5 {
        c.login("ghost@acme.example", "wrong").await;
    }
    assert_eq!(
        c.login("ghost@acme.example", "wrong").await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
    // After the wait, the right password works.
    app.clock.advance(chrono::Duration::seconds(20));
    let a = c.login(&org.email(Role::Admin), PASSWORD).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    app.stop().await;
}
both!(repeated_failures_are_throttled);

async fn session_survives_a_restart_and_rotates_at_login(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = spawn_app(&db).await;
    let org = app.org("acme").await;
    let c = app.client();
    // A session that exists before this login (here: an earlier login in the
    // same browser) must not carry over its id: logging in again gives a new one.
    let first = c.login(&org.email(Role::Admin), PASSWORD).await;
    let pre = first
        .headers
        .get("set-cookie")
        .expect("the first login sets a session cookie")
        .to_str()
        .unwrap()
        .to_owned();
    let a = c.login(&org.email(Role::Admin), PASSWORD).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let cookie = a
        .headers
        .get("set-cookie")
        .expect("a login over an existing session sets a new cookie")
        .to_str()
        .unwrap()
        .to_owned();
    assert_ne!(
        pre.split(';').next(),
        cookie.split(';').next(),
        "session id must change at login"
    );
    // … and the old id is signed in no more.
    let old = reqwest::Client::new()
        .post(format!("{}/api/auth/me", app.address))
        .header("Accept", "application/json")
        .header("Cookie", pre.split(';').next().unwrap())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !old.contains(&org.email(Role::Admin)),
        "the session id before login still signs in: {old}"
    );
    let session = cookie.split(';').next().unwrap().to_owned();
    let config = app.config.clone();
    let clock = app.clock.clone();
    app.stop().await;

    let app2 = spawn_with(config, clock).await;
    let fresh = reqwest::Client::new();
    let res = fresh
        .post(format!("{}/api/auth/me", app2.address))
        .header("Accept", "application/json")
        .header("Cookie", &session)
        .send()
        .await
        .unwrap();
    let body = res.text().await.unwrap();
    assert!(
        body.contains(&org.email(Role::Admin)),
        "session lost across restart: {body}"
    );
    app2.stop().await;
}
both!(session_survives_a_restart_and_rotates_at_login);

async fn expired_session_gets_a_clear_error(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = spawn_app(&db).await;
    let org = app.org("acme").await;
    let c = app.client();
    c.login_ok(&org.email(Role::Admin)).await;
    assert_eq!(c.call("toms/catalogue", &[]).await.status, StatusCode::OK);
    // Let every session run out.
    app.db
        .execute_unprepared("UPDATE sessions SET expires_at = '2000-01-01T00:00:00Z'")
        .await
        .unwrap();
    let a = c.call("toms/catalogue", &[]).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    assert_eq!(a.error(), Some(AppError::Unauthenticated));
    assert!(
        AppError::Unauthenticated
            .to_string()
            .contains("Sitzung ist abgelaufen")
    );
    // The page itself sends the person to the login form.
    let page = c.get("/massnahmen").await;
    assert_eq!(page.status, StatusCode::FOUND);
    assert!(
        page.headers["location"]
            .to_str()
            .unwrap()
            .starts_with("/login")
    );
    app.stop().await;
}
both!(expired_session_gets_a_clear_error);

async fn an_https_public_url_marks_the_cookie_secure(backend: Backend) {
    let db = TestDb::new(backend).await;
    let org = {
        let app = spawn_app(&db).await;
        let org = app.org("acme").await;
        app.stop().await;
        org
    };
    // Behind a TLS-terminating proxy: the server itself speaks plain http,
    // the public address is https, and the browser must never send the
    // session cookie over plain http.
    let server = crate::evidence_process::ServerProcess::start(
        &db,
        &[("NACHWEIS_PUBLIC_URL", "https://nachweis.example")],
    )
    .await;
    let a = server
        .client()
        .login(&org.email(Role::Admin), PASSWORD)
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let cookie = a
        .headers
        .get("set-cookie")
        .expect("session cookie")
        .to_str()
        .unwrap()
        .to_owned();
    assert!(cookie.contains("; Secure"), "{cookie}");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
}
both!(an_https_public_url_marks_the_cookie_secure);

async fn an_idle_session_ends(backend: Backend) {
    let db = TestDb::new(backend).await;
    let mut config = config_for(&db);
    config.session_idle_minutes = 30;
    let app = spawn_with(config, TestClock::starting_now()).await;
    let org = app.org("acme").await;
    let c = app.client();
    c.login_ok(&org.email(Role::Admin)).await;
    let signed_in = |c: &Client| {
        let c = c.clone();
        async move { c.call("auth/me", &[]).await.body != "null" }
    };
    // Each request within the 30 minutes keeps the session alive …
    for _ in 0..3 {
        app.clock.advance(chrono::Duration::minutes(29));
        assert!(signed_in(&c).await, "signed out while active");
    }
    // … 30 idle minutes end it, and it stays ended.
    app.clock
        .advance(chrono::Duration::minutes(30) + chrono::Duration::seconds(1));
    assert!(
        !signed_in(&c).await,
        "still signed in after 30 idle minutes"
    );
    assert_eq!(
        c.call("toms/catalogue", &[]).await.status,
        StatusCode::UNAUTHORIZED
    );
    app.stop().await;
}
both!(an_idle_session_ends);

/// An active session costs one write a minute: requests within a minute of
/// the last write send no statement to the session table, the first one
/// after it moves the stored expiry on.
async fn an_active_session_is_written_at_most_once_a_minute(backend: Backend) {
    use app::entities::sessions;
    use app::state::Clock;
    let db = TestDb::new(backend).await;
    let mut config = config_for(&db);
    config.session_idle_minutes = 30;
    let app = spawn_with(config, TestClock::starting_now()).await;
    let org = app.org("acme").await;
    let c = app.client();
    c.login_ok(&org.email(Role::Admin)).await;
    let stored = || async {
        let rows = sessions::Entity::find().all(&app.db).await.unwrap();
        assert_eq!(rows.len(), 1, "one session");
        rows[0].expires_at
    };
    let written = app.sessions.writes();
    let expiry = stored().await;
    // 20 requests over 40 seconds: no write.
    for _ in 0..20 {
        app.clock.advance(chrono::Duration::seconds(2));
        assert_eq!(c.call("auth/me", &[]).await.status, StatusCode::OK);
    }
    assert_eq!(
        app.sessions.writes(),
        written,
        "a request within the minute wrote the session"
    );
    assert_eq!(stored().await, expiry);
    // A minute after the last write, the next request writes once.
    app.clock.advance(chrono::Duration::seconds(21));
    assert_eq!(c.call("auth/me", &[]).await.status, StatusCode::OK);
    assert_eq!(app.sessions.writes(), written + 1);
    let moved = stored().await;
    assert_eq!(
        moved.timestamp(),
        (app.clock.now() + chrono::Duration::minutes(30)).timestamp(),
        "the stored expiry is 30 minutes after the last request"
    );
    app.stop().await;
}
both!(an_active_session_is_written_at_most_once_a_minute);

/// The session store reads the person with the session (one statement):
/// what it hands the request is the database's state at that request, so
/// a changed role, a removed membership and a locked account take effect
/// at the very next request; and what it adds is never stored.
async fn a_session_sees_its_person_as_the_database_has_them_now(backend: Backend) {
    use app::entities::{memberships, sessions, users};
    use app::state::Clock;
    use sea_orm::{ActiveModelTrait, ColumnTrait, QueryFilter};
    let db = TestDb::new(backend).await;
    let app = spawn_app(&db).await;
    let org = app.org("acme").await;
    let other = app.org("other").await;
    let c = app.client();
    c.login_ok(&org.email(Role::Admin)).await;
    assert_eq!(c.call("orgs/members", &[]).await.status, StatusCode::OK);

    // The row names whom it signs in; the person is not stored with it.
    let rows = sessions::Entity::find().all(&app.db).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].user_id, Some(org.user_id(Role::Admin)));
    assert_eq!(rows[0].org_id, Some(org.id));
    assert!(
        !rows[0].data.contains("nachweis.person"),
        "{}",
        rows[0].data
    );

    // A new membership elsewhere shows in the switcher at once.
    let me = c.call("auth/me", &[]).await;
    assert!(!me.body.contains("\"other\""), "{}", me.body);
    memberships::ActiveModel {
        org_id: Set(other.id),
        user_id: Set(org.user_id(Role::Admin)),
        role: Set(Role::Auditor.as_str().to_owned()),
        customer_id: Set(None),
        created_at: Set(app.clock.now()),
        ..Default::default()
    }
    .insert(&app.db)
    .await
    .unwrap();
    let me = c.call("auth/me", &[]).await;
    assert!(me.body.contains("\"other\""), "{}", me.body);

    // Demoted: the next request acts as staff.
    memberships::Entity::update_many()
        .filter(memberships::Column::UserId.eq(org.user_id(Role::Admin)))
        .filter(memberships::Column::OrgId.eq(org.id))
        .col_expr(
            memberships::Column::Role,
            sea_orm::sea_query::Expr::value(Role::Staff.as_str()),
        )
        .exec(&app.db)
        .await
        .unwrap();
    let settings = c.call("orgs/members", &[]).await;
    assert_eq!(settings.status, StatusCode::FORBIDDEN, "{}", settings.body);
    assert_eq!(c.call("auth/me", &[]).await.status, StatusCode::OK);

    // Locked: signed out at the next request, and it stays so.
    users::Entity::update_many()
        .col_expr(users::Column::Locked, sea_orm::sea_query::Expr::value(true))
        .filter(users::Column::Id.eq(org.user_id(Role::Admin)))
        .exec(&app.db)
        .await
        .unwrap();
    assert_eq!(c.call("auth/me", &[]).await.body, "null");
    users::Entity::update_many()
        .col_expr(
            users::Column::Locked,
            sea_orm::sea_query::Expr::value(false),
        )
        .filter(users::Column::Id.eq(org.user_id(Role::Admin)))
        .exec(&app.db)
        .await
        .unwrap();
    assert_eq!(c.call("auth/me", &[]).await.body, "null");

    // Without the membership the session ends too.
    let s = app.client();
    s.login_ok(&org.email(Role::Staff)).await;
    assert_eq!(s.call("auth/me", &[]).await.status, StatusCode::OK);
    memberships::Entity::delete_many()
        .filter(memberships::Column::UserId.eq(org.user_id(Role::Staff)))
        .exec(&app.db)
        .await
        .unwrap();
    assert_eq!(s.call("auth/me", &[]).await.body, "null");
    assert_eq!(
        s.call("toms/catalogue", &[]).await.status,
        StatusCode::UNAUTHORIZED
    );
    app.stop().await;
}
both!(a_session_sees_its_person_as_the_database_has_them_now);

/// Sessions that load at the same moment are read in one statement: each
/// request still gets its own person, never another's, and a session
/// signed out meanwhile stays signed out.
async fn concurrent_requests_each_get_their_own_person(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = spawn_app(&db).await;
    let mut people = Vec::new();
    for short in ["acme", "beta", "gamma"] {
        let org = app.org(short).await;
        for role in [Role::Admin, Role::Owner, Role::Staff, Role::Auditor] {
            let c = app.client();
            c.login_ok(&org.email(role)).await;
            people.push((c, org.email(role), short));
        }
    }
    let (gone, _, _) = &people[0];
    gone.call("auth/logout", &[]).await;
    let before = app.statements.get();
    let mut asked = 0;
    for _ in 0..5 {
        let answers = futures::future::join_all(
            people
                .iter()
                .map(|(c, _, _)| async move { c.call("auth/me", &[]).await }),
        )
        .await;
        asked += answers.len();
        for (i, ((_, email, short), me)) in people.iter().zip(answers).enumerate() {
            assert_eq!(me.status, StatusCode::OK, "{}", me.body);
            if i == 0 {
                assert_eq!(me.body, "null", "signed out, yet answered");
                continue;
            }
            assert!(me.body.contains(email.as_str()), "{email} got {}", me.body);
            // Nobody else's address in the answer.
            for (_, other, _) in &people {
                if other != email {
                    assert!(!me.body.contains(other.as_str()), "{email} got {other}");
                }
            }
            assert!(me.body.contains(&format!("\"{short}\"")), "{}", me.body);
        }
    }
    eprintln!(
        "{asked} concurrent requests: {} statements",
        app.statements.get() - before
    );
    app.stop().await;
}
both!(concurrent_requests_each_get_their_own_person);
