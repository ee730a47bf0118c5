//! Invitations: the link shown to the admin, accepting it, and its limits.

use app::domain::Role;
use reqwest::StatusCode;

use crate::both;
use crate::helpers::*;

pub fn token_of(link: &str) -> String {
    let link: String = serde_json::from_str(link).expect("link as JSON string");
    link.rsplit('/').next().unwrap().to_owned()
}

async fn an_invited_person_joins_with_the_given_role(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = spawn_app(&db).await;
    let org = app.org("acme").await;
    let admin = app.client();
    admin.login_ok(&org.email(Role::Admin)).await;

    let a = admin
        .call(
            "orgs/invite",
            &[("email", "Neue.Person@Acme.example"), ("role", "owner")],
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert!(
        a.body.contains(&format!("{}/einladung/", app.address)),
        "{}",
        a.body
    );
    let token = token_of(&a.body);

    // Inviting an existing member is refused.
    let dup = admin
        .call(
            "orgs/invite",
            &[("email", &org.email(Role::Staff)), ("role", "owner")],
        )
        .await;
    assert_eq!(dup.status, StatusCode::UNPROCESSABLE_ENTITY);

    let guest = app.client();
    let info = guest.call("orgs/invitation", &[("token", &token)]).await;
    assert_eq!(info.status, StatusCode::OK, "{}", info.body);
    assert!(
        info.body.contains("neue.person@acme.example"),
        "{}",
        info.body
    );
    // A short password is refused and nothing is created.
    let short = guest
        .call(
            "orgs/invitation/accept",
            &[
                ("token", &token),
                ("display_name", "Neue Person"),
                ("password", "kurz"),
            ],
        )
        .await;
    assert_eq!(
        short.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        short.body
    );
    let ok = guest
        .call(
            "orgs/invitation/accept",
            &[
                ("token", &token),
                ("display_name", "Neue Person"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    let me = guest.call("auth/me", &[]).await;
    assert!(me.body.contains("\"role\":\"owner\""), "{}", me.body);
    // The link works once.
    let again = app
        .client()
        .call("orgs/invitation", &[("token", &token)])
        .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    app.stop().await;
}
both!(an_invited_person_joins_with_the_given_role);

async fn expired_and_revoked_invitations_do_not_work(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = spawn_app(&db).await;
    let org = app.org("acme").await;
    let admin = app.client();
    admin.login_ok(&org.email(Role::Admin)).await;
    let expired = token_of(
        &admin
            .call(
                "orgs/invite",
                &[("email", "a@acme.example"), ("role", "staff")],
            )
            .await
            .body,
    );
    let revoked = token_of(
        &admin
            .call(
                "orgs/invite",
                &[("email", "b@acme.example"), ("role", "staff")],
            )
            .await
            .body,
    );
    let members: app::orgs::MembersView =
        serde_json::from_str(&admin.call("orgs/members", &[]).await.body).unwrap();
    let id = members
        .invitations
        .iter()
        .find(|i| i.email == "b@acme.example")
        .unwrap()
        .id;
    assert_eq!(
        admin
            .call("orgs/invitation/revoke", &[("id", &id.to_string())])
            .await
            .status,
        StatusCode::OK
    );
    let guest = app.client();
    let accept = |token: String| {
        let guest = &guest;
        async move {
            guest
                .call(
                    "orgs/invitation/accept",
                    &[
                        ("token", &token),
                        ("display_name", "X"),
                        ("password", PASSWORD),
                    ],
                )
                .await
        }
    };
    // Revoked: dead at once, long before it would expire.
    let a = accept(revoked).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND, "{}", a.body);
    // Valid until the 14 days are over, to the minute.
    let form = [("token", expired.as_str())];
    let lookup = || guest.call("orgs/invitation", &form);
    app.clock
        .advance(chrono::Duration::days(14) - chrono::Duration::minutes(1));
    assert_eq!(lookup().await.status, StatusCode::OK);
    app.clock.advance(chrono::Duration::minutes(2));
    assert_eq!(lookup().await.status, StatusCode::NOT_FOUND);
    for token in [expired.clone(), "0".repeat(64), "nonsense".to_owned()] {
        let a = accept(token).await;
        assert_eq!(a.status, StatusCode::NOT_FOUND, "{}", a.body);
    }
    app.stop().await;
}
both!(expired_and_revoked_invitations_do_not_work);

async fn the_last_admin_stays(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = spawn_app(&db).await;
    let org = app.org("acme").await;
    let admin = app.client();
    admin.login_ok(&org.email(Role::Admin)).await;
    let me = org.user_id(Role::Admin).to_string();
    assert_eq!(
        admin
            .call("orgs/member/role", &[("user_id", &me), ("role", "staff")])
            .await
            .status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        admin
            .call("orgs/member/remove", &[("user_id", &me)])
            .await
            .status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    app.stop().await;
}
both!(the_last_admin_stays);
