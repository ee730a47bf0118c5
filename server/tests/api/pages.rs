//! Server-rendered pages: HTML with the hydration script, health, 404.

use app::domain::Role;
use reqwest::StatusCode;

use crate::both;
use crate::helpers::*;

async fn pages_render_on_the_server(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = spawn_app(&db).await;
    let org = app.org("acme").await;
    let c = app.client();

    assert_eq!(c.get("/healthz").await.status, StatusCode::OK);

    let login = c.get("/login").await;
    assert_eq!(login.status, StatusCode::OK);
    assert!(login.body.contains("<html lang=\"de\""));
    assert!(
        login.body.contains("/pkg/nachweis.js"),
        "hydration script missing"
    );
    assert!(login.body.contains("name=\"password\""));
    assert_eq!(login.headers["x-content-type-options"], "nosniff");

    // Not signed in: the start page sends you to the login.
    let home = c.get("/").await;
    assert_eq!(home.status, StatusCode::FOUND);
    assert!(
        home.headers["location"]
            .to_str()
            .unwrap()
            .starts_with("/login")
    );

    c.login_ok(&org.email(Role::Admin)).await;
    let cat = c.get("/massnahmen").await;
    assert_eq!(cat.status, StatusCode::OK);
    assert!(cat.body.contains("3.1 Zutrittskontrolle"));

    let missing = c.get("/gibt-es-nicht").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(missing.body.contains("Seite nicht gefunden"));
    let missing = c.get("/massnahmen/999999").await;
    assert!(missing.body.contains("wurde nicht gefunden"));
    app.stop().await;
}
both!(pages_render_on_the_server);
