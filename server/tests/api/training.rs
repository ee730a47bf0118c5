//! Privacy training: versions keep completions on the version passed;
//! answers for another version or another person's attempt are refused;
//! handing in twice does not count twice; the pass mark holds exactly at
//! the boundary; certificates are the holder's and the DPO's only.

use app::domain::Role;
use app::entities::training_completions;
use app::ids::{AttemptId, CompletionId, CourseVersionId};
use app::training::{AttemptView, MyTraining, TrainingOverview};
use reqwest::StatusCode;
use sea_orm::{EntityTrait, PaginatorTrait};
use sha2::{Digest, Sha256};

use crate::both;
use crate::helpers::*;
use crate::publish::annex_text;

/// Five questions, pass mark 80 %: four right passes, three fail.
pub const COURSE: &str = "# Kurs\n\nPasswörter gibt man nicht weiter.\n\n---quiz---\n\n\
? Eins\n- [x] richtig\n- [ ] falsch\n\n\
? Zwei\n- [x] richtig\n- [ ] falsch\n\n\
? Drei\n- [x] richtig\n- [ ] falsch\n\n\
? Vier\n- [x] richtig\n- [ ] falsch\n\n\
?? Fünf\n- [x] richtig\n- [x] auch richtig\n- [ ] falsch\n";

async fn mine(c: &Client) -> MyTraining {
    let a = c.call("training/mine", &[]).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    serde_json::from_str(&a.body).unwrap()
}

pub async fn attempt(c: &Client, id: AttemptId) -> AttemptView {
    let a = c.call("training/attempt", &[("id", &id.to_string())]).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    serde_json::from_str(&a.body).unwrap()
}

pub async fn start(c: &Client, course: &str) -> AttemptId {
    let a = c.call("training/start", &[("course_id", course)]).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    a.body.parse().unwrap()
}

/// Posts the quiz form as JSON client: (status, body).
pub async fn send(
    c: &Client,
    attempt: AttemptId,
    version_id: CourseVersionId,
    answers: &[(usize, usize)],
    submit: bool,
) -> (StatusCode, serde_json::Value) {
    let mut form: Vec<(String, String)> = vec![
        ("version_id".into(), version_id.to_string()),
        (
            "aktion".into(),
            if submit { "abgeben" } else { "speichern" }.into(),
        ),
    ];
    for (q, o) in answers {
        form.push((format!("q{q}"), o.to_string()));
    }
    let res = c
        .http
        .post(format!("{}/schulungen/durchgang/{attempt}", c.base))
        .header("Accept", "application/json")
        .form(&form)
        .send()
        .await
        .unwrap();
    let status = res.status();
    (status, res.json().await.unwrap_or_default())
}

/// Answers: questions 0..right right, the rest wrong (question 4 is multiple choice).
pub fn answers(right: usize) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    for q in 0..5 {
        let ok = q < right;
        match (q, ok) {
            (4, true) => out.extend([(4, 0), (4, 1)]),
            (4, false) => out.push((4, 0)),
            (_, true) => out.push((q, 0)),
            (_, false) => out.push((q, 1)),
        }
    }
    out
}

async fn training_records_hold_their_version_and_count_once(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = spawn_app(&db).await;
    let org = app.org("acme").await;
    let other = app.org("other").await;
    let admin = app.client();
    admin.login_ok(&org.email(Role::Admin)).await;

    // A broken course is refused with the line; nothing is stored.
    let a = admin
        .call(
            "training/courses/save",
            &[
                ("title", "Kaputt"),
                ("source", "Inhalt\n---quiz---\n? Frage\nUnsinn\n"),
            ],
        )
        .await;
    assert!(a.body.contains("Zeile 4"), "{}", a.body);
    let course = admin
        .call(
            "training/courses/save",
            &[
                ("title", "Passwortkurs"),
                ("source", COURSE),
                ("pass_percent", "80"),
            ],
        )
        .await;
    assert_eq!(course.status, StatusCode::OK, "{}", course.body);
    let course = course.body;
    let staff = app.client();
    staff.login_ok(&org.email(Role::Staff)).await;
    let owner = app.client();
    owner.login_ok(&org.email(Role::Owner)).await;
    assert_eq!(
        staff
            .call(
                "training/courses/save",
                &[("title", "X"), ("source", COURSE)]
            )
            .await
            .status,
        StatusCode::FORBIDDEN
    );

    // Start, pause with some answers, resume: same attempt, same order, answers kept.
    let id = start(&staff, &course).await;
    let first = attempt(&staff, id).await;
    assert_eq!(first.questions.len(), 5);
    assert_eq!(
        send(&staff, id, first.version_id, &[(0, 0), (4, 1)], false)
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(start(&staff, &course).await, id, "resumes the open attempt");
    let resumed = attempt(&staff, id).await;
    let order = |a: &AttemptView| a.questions.iter().map(|q| q.index).collect::<Vec<_>>();
    assert_eq!(order(&resumed), order(&first));
    let q4 = resumed.questions.iter().find(|q| q.index == 4).unwrap();
    assert_eq!(q4.chosen, [1]);

    // Another person's attempt is not found; another organisation's neither.
    let (status, _) = send(&owner, id, first.version_id, &answers(5), true).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let stranger = app.client();
    stranger.login_ok(&other.email(Role::Staff)).await;
    assert_eq!(
        stranger
            .call("training/attempt", &[("id", &id.to_string())])
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        stranger
            .call("training/start", &[("course_id", &course)])
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    // Answers for another version, or for options that do not exist, are refused.
    let (status, body) = send(
        &staff,
        id,
        CourseVersionId(first.version_id.0 + 1000),
        &answers(5),
        true,
    )
    .await;
    assert_eq!(status.as_u16(), 422, "{body}");
    let (status, _) = send(&staff, id, first.version_id, &[(0, 7)], true).await;
    assert_eq!(status.as_u16(), 422);
    // Handing in with a question unanswered keeps the answers and says which.
    let (status, body) = send(&staff, id, first.version_id, &[(0, 0)], true).await;
    assert_eq!(status.as_u16(), 422);
    assert!(body.to_string().contains("unbeantwortet"), "{body}");

    // Three of five (60 %) fails.
    let (status, body) = send(&staff, id, first.version_id, &answers(3), true).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["passed"], false);
    assert_eq!(body["score"], 3);
    let t = mine(&staff).await;
    assert_eq!(t.courses[0].state.as_str(), "failed");
    // Four of five (exactly 80 %) passes.
    let id2 = start(&staff, &course).await;
    assert_ne!(id2, id);
    let (status, body) = send(&staff, id2, first.version_id, &answers(4), true).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["passed"], true, "{body}");
    let completion = CompletionId(body["completion_id"].as_i64().unwrap() as i32);
    // Handing in the same attempt again does not count again.
    let (status, body) = send(&staff, id2, first.version_id, &answers(5), true).await;
    assert_eq!(status.as_u16(), 422, "{body}");
    assert!(body.to_string().contains("bereits abgegeben"), "{body}");
    assert_eq!(
        training_completions::Entity::find()
            .count(&app.db)
            .await
            .unwrap(),
        1
    );

    // The certificate: the holder's and the DPO's, with name, course, version and hash.
    let cert = |c: &Client| {
        let url = format!("{}/schulungen/zertifikat/{completion}.pdf", c.base);
        let http = c.http.clone();
        async move {
            let res = http.get(url).send().await.unwrap();
            (res.status(), res.bytes().await.unwrap().to_vec())
        }
    };
    let (status, pdf) = cert(&staff).await;
    assert_eq!(status, StatusCode::OK);
    // Signed by the organisation, with the audit head at passing (issue 15).
    crate::audit::assert_anchored(
        &app,
        &db,
        "training_completions",
        completion,
        &pdf,
        "training certificate",
    )
    .await;
    let text = annex_text(&pdf);
    for needle in [
        "Teilnahmebescheinigung",
        "staff acme",
        "Passwortkurs",
        "4 von 5",
    ] {
        assert!(text.contains(needle), "{needle}: {text}");
    }
    assert_eq!(cert(&admin).await.0, StatusCode::OK);
    assert_eq!(cert(&owner).await.0, StatusCode::NOT_FOUND);
    assert_eq!(cert(&stranger).await.0, StatusCode::NOT_FOUND);

    let overview = |c: Client| async move {
        let a = c.call("training/overview", &[]).await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.body);
        serde_json::from_str::<TrainingOverview>(&a.body).unwrap()
    };
    let o = overview(admin.clone()).await;
    assert_eq!(
        o.summary,
        "Stand der Schulungen: 1 von 3 Mitarbeitenden geschult."
    );
    assert_eq!(
        staff.call("training/overview", &[]).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!((o.total, o.matching, o.page, o.pages), (3, 3, 1, 1));
    // Filter and search narrow the rows on the server; the figures stay.
    let narrowed = |form: &'static [(&'static str, &'static str)]| {
        let admin = admin.clone();
        async move {
            let a = admin.call("training/overview", form).await;
            assert_eq!(a.status, StatusCode::OK, "{}", a.body);
            serde_json::from_str::<TrainingOverview>(&a.body).unwrap()
        }
    };
    let n = narrowed(&[("show", "offen"), ("search", "STAFF Acme"), ("page", "1")]).await;
    assert_eq!(n.summary, o.summary);
    let names: Vec<&str> = n.rows.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["staff acme"], "passed, but the pledge is open");
    assert_eq!((n.matching, n.total), (1, 3));
    // The failure before the pass no longer counts.
    let n = narrowed(&[("show", "nicht-bestanden")]).await;
    assert_eq!(n.matching, 0, "{:?}", n.rows);
    let a = admin
        .call("training/overview", &[("search", "nobody-by-this-name")])
        .await;
    let none: TrainingOverview = serde_json::from_str(&a.body).unwrap();
    assert_eq!((none.matching, none.rows.len(), none.total), (0, 0, 3));
    // A page past the end shows the last one.
    let a = admin.call("training/overview", &[("page", "99")]).await;
    let last: TrainingOverview = serde_json::from_str(&a.body).unwrap();
    assert_eq!((last.page, last.pages, last.rows.len()), (1, 1, 3));

    // A new version: the completion stays on version 1, the person is due again.
    let v2 = format!("{COURSE}\n? Sechs\n- [x] richtig\n- [ ] falsch\n");
    let a = admin
        .call(
            "training/courses/save",
            &[
                ("course_id", &course),
                ("title", "Passwortkurs"),
                ("source", &v2),
            ],
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let t = mine(&staff).await;
    assert_eq!(t.courses[0].version, 2);
    assert_eq!(t.courses[0].state.as_str(), "outdated");
    assert_eq!(t.certificates[0].version, 1);
    let o = overview(admin.clone()).await;
    let row = o.rows.iter().find(|r| r.name == "staff acme").unwrap();
    assert_eq!(
        row.cells[0].state.as_str(),
        "due",
        "the new version is due within 30 days"
    );
    assert_eq!(row.cells[0].version, Some(1));
    assert_eq!(
        o.summary,
        "Stand der Schulungen: 0 von 3 Mitarbeitenden geschult."
    );
    let stored = training_completions::Entity::find_by_id(completion)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.version, 1);
    assert_eq!(
        hex::encode(Sha256::digest(&stored.certificate_pdf)),
        stored.certificate_sha256
    );
    let csv = admin.get("/schulungen/uebersicht.csv").await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(
        csv.body.contains("staff acme;staff@acme.example;") && csv.body.contains("(zuletzt v1 am "),
        "{}",
        csv.body
    );
    app.stop().await;
}
both!(training_records_hold_their_version_and_count_once);

async fn reminders(app: &TestApp) -> Vec<app::entities::outbox::Model> {
    use sea_orm::{ColumnTrait, QueryFilter, QueryOrder};
    app::entities::outbox::Entity::find()
        .filter(app::entities::outbox::Column::Kind.eq("training_reminder"))
        .order_by_asc(app::entities::outbox::Column::Id)
        .all(&app.db)
        .await
        .unwrap()
}

async fn due_overdue_and_new_joiner_reminders_go_out_once(backend: Backend) {
    use app::state::Clock;
    use chrono::Duration;
    use server::mailer::{Mailer, send_due};
    let db = TestDb::new(backend).await;
    let app = spawn_app(&db).await;
    let org = app.org("acme").await;
    let admin = app.client();
    admin.login_ok(&org.email(Role::Admin)).await;
    let course = admin
        .call(
            "training/courses/save",
            &[("title", "Passwortkurs"), ("source", COURSE)],
        )
        .await;
    assert_eq!(course.status, StatusCode::OK, "{}", course.body);
    let course = course.body;
    let a = admin
        .call(
            "training/courses/rules",
            &[
                ("course_id", &course),
                ("interval_months", "12"),
                ("new_staff_days", "14"),
                ("retry_days", "7"),
            ],
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let run = |app: &TestApp| {
        let db = app.db.clone();
        let now = app.clock.now();
        let url = app.address.clone();
        async move {
            app::training::service::send_reminders(&db, now, &url)
                .await
                .unwrap()
        }
    };
    let t0 = app.clock.now();
    let day = |d: chrono::DateTime<chrono::Utc>| {
        app::format::german_day(d).format("%d.%m.%Y").to_string()
    };

    // Everyone who must train (admin, owner, staff; not auditors or customers) is due in 14 days.
    assert_eq!(run(&app).await, 3);
    assert_eq!(run(&app).await, 0, "once");
    let due = day(t0 + Duration::days(14));
    assert!(
        reminders(&app)
            .await
            .iter()
            .all(|m| m.subject == format!("Schulung „Passwortkurs“ bis {due}")),
        "{:?}",
        reminders(&app)
            .await
            .iter()
            .map(|m| &m.subject)
            .collect::<Vec<_>>()
    );

    // Staff see the same due day on their own page as the reminder says.
    let staff = app.client();
    staff.login_ok(&org.email(Role::Staff)).await;
    let theirs = mine(&staff).await;
    let open = theirs
        .courses
        .iter()
        .find(|c| c.title == "Passwortkurs")
        .unwrap();
    assert_eq!(
        open.due,
        Some(app::format::german_day(t0 + Duration::days(14)))
    );
    assert!(!open.overdue);
    let page = staff.get("/schulungen").await;
    assert!(
        page.body.contains(&format!("fällig bis {due}")),
        "{}",
        page.body
    );

    // Staff passes; the others become overdue after the deadline, once.
    let id = start(&staff, &course).await;
    let v = attempt(&staff, id).await.version_id;
    let (status, body) = send(&staff, id, v, &answers(5), true).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    app.clock.advance(Duration::days(15));
    assert_eq!(run(&app).await, 2);
    assert_eq!(run(&app).await, 0, "once");
    let overdue: Vec<_> = reminders(&app)
        .await
        .into_iter()
        .filter(|m| m.subject.starts_with("Überfällig"))
        .collect();
    assert_eq!(overdue.len(), 2);
    // The owner's page says overdue; the staff member's, having passed, no date.
    let owner = app.client();
    owner.login_ok(&org.email(Role::Owner)).await;
    let c = mine(&owner).await;
    let c = c
        .courses
        .iter()
        .find(|c| c.title == "Passwortkurs")
        .unwrap();
    assert!(c.overdue && c.due.is_some());
    let s = mine(&staff).await;
    let s = s
        .courses
        .iter()
        .find(|c| c.title == "Passwortkurs")
        .unwrap();
    assert_eq!((s.due, s.overdue), (None, false));
    assert!(
        !overdue
            .iter()
            .any(|m| m.recipient == org.email(Role::Staff))
    );
    // The DPO's daily digest lists them too.
    app::reminders::service::run_digest(&app.db, app.clock.now(), "node-a", &app.address)
        .await
        .unwrap();
    let digest = {
        use sea_orm::{ColumnTrait, QueryFilter};
        app::entities::outbox::Entity::find()
            .filter(app::entities::outbox::Column::Kind.eq("digest"))
            .filter(app::entities::outbox::Column::Recipient.eq(org.email(Role::Admin)))
            .one(&app.db)
            .await
            .unwrap()
            .expect("the admin's digest")
    };
    assert!(
        digest
            .body_text
            .contains("Schulungen, die fällig oder überfällig sind (2)")
            && digest
                .body_text
                .contains(&format!("owner acme: Passwortkurs (überfällig seit {due})")),
        "{}",
        digest.body_text
    );

    // A new joiner gets their own reminder, 14 days from joining.
    let joined = app.clock.now();
    {
        let system = app::audit::service::AuditActor::system("test");
        let u = app::auth::service::create_user(
            &app.db,
            joined,
            &system,
            &app::domain::EmailAddress::parse("neu@acme.example").unwrap(),
            "Nina Neu",
            None,
        )
        .await
        .unwrap();
        app::orgs::service::add_membership(&app.db, joined, &system, org.id, u.id, Role::Staff)
            .await
            .unwrap();
    }
    assert_eq!(run(&app).await, 1);
    let newest = reminders(&app).await.pop().unwrap();
    assert_eq!(newest.recipient, "neu@acme.example");
    assert_eq!(
        newest.subject,
        format!(
            "Schulung „Passwortkurs“ bis {}",
            day(joined + Duration::days(14))
        )
    );

    // A year on, the staff member is due again, 30 days ahead, once.
    app.clock.set(t0 + Duration::days(365 - 29));
    let before = reminders(&app).await.len();
    run(&app).await;
    let again: Vec<_> = reminders(&app).await.into_iter().skip(before).collect();
    assert!(
        again.iter().any(|m| m.recipient == org.email(Role::Staff)),
        "{:?}",
        again
            .iter()
            .map(|m| (&m.recipient, &m.subject))
            .collect::<Vec<_>>()
    );
    assert_eq!(run(&app).await, 0);

    // They reach the real SMTP server.
    let sink = crate::peers::SmtpSink::start();
    let mailer = Mailer::new(&sink.smtp_config()).unwrap();
    send_due(&app.db, &mailer, app.clock.now(), "node-a")
        .await
        .unwrap();
    let got = sink.messages();
    assert_eq!(
        got.iter()
            .filter(|m| !m.subject.starts_with("Nachweis: Handlungsbedarf"))
            .count(),
        reminders(&app).await.len(),
        "every reminder arrives, next to the digest"
    );
    let mail = got.iter().find(|m| m.to == "neu@acme.example").unwrap();
    assert!(mail.text.contains("Guten Tag Nina Neu"), "{}", mail.text);
    assert!(mail.text.contains(&format!("{}/schulungen", app.address)));
    app.stop().await;
}
both!(due_overdue_and_new_joiner_reminders_go_out_once);

/// A tiny but real PNG (1 × 1 pixel).
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89\0\0\0\rIDATx\x9cc\xf8\xff\xff?\0\x05\xfe\x02\xfe\xa75\x81\x84\0\0\0\0IEND\xaeB`\x82";

/// Images in course content come from evidence storage: only pictures of
/// the organisation, each described; staff see exactly the images of the
/// courses they read (not other evidence, not another organisation's).
async fn course_images_come_from_evidence_for_readers_only(backend: Backend) {
    use crate::catalogue::{catalogue, category_id, create};
    use crate::evidence::{PDF, form, upload};
    let db = TestDb::new(backend).await;
    let app = spawn_app(&db).await;
    let org = app.org("acme").await;
    let other = app.org("other").await;
    let admin = app.client();
    admin.login_ok(&org.email(Role::Admin)).await;
    let staff = app.client();
    staff.login_ok(&org.email(Role::Staff)).await;
    let stranger_admin = app.client();
    stranger_admin.login_ok(&other.email(Role::Admin)).await;
    let stranger = app.client();
    stranger.login_ok(&other.email(Role::Staff)).await;

    let evidence = |c: Client, name: &'static str, bytes: &'static [u8]| async move {
        let measure = create(
            &c,
            category_id(&catalogue(&c).await, "1"),
            "Zutritt nur mit Schlüssel.",
        )
        .await;
        let a = upload(&c, form(measure, name, "", name, bytes.to_vec())).await;
        assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
        serde_json::from_str::<app::evidence::UploadResult>(&a.body)
            .unwrap()
            .evidence_id
    };
    let png = evidence(admin.clone(), "tor.png", PNG).await;
    let pdf = evidence(admin.clone(), "richtlinie.pdf", PDF).await;
    let foreign = evidence(stranger_admin.clone(), "fremd.png", PNG).await;

    // The editor lists the pictures, not the PDF.
    let list: app::training::CourseList =
        serde_json::from_str(&admin.call("training/courses", &[]).await.body).unwrap();
    assert_eq!(list.images, vec![(png, "tor.png".to_owned())]);

    let with_image = |img: String| COURSE.replace("# Kurs\n", &format!("# Kurs\n\n{img}\n"));
    let save = |source: String| {
        let admin = admin.clone();
        async move {
            admin
                .call(
                    "training/courses/save",
                    &[
                        ("course_id", "0"),
                        ("title", "Zutritt"),
                        ("source", &source),
                    ],
                )
                .await
        }
    };
    for (img, says) in [
        (
            "![Tor](https://tracker.example/tor.png)".to_owned(),
            "anderer Websites",
        ),
        (format!("![](nachweis:{png})"), "keine Beschreibung"),
        (format!("![Richtlinie](nachweis:{pdf})"), "gibt es nicht"),
        (format!("![Fremd](nachweis:{foreign})"), "gibt es nicht"),
    ] {
        let a = save(with_image(img.clone())).await;
        assert_eq!(a.status.as_u16(), 422, "{img}: {}", a.body);
        assert!(a.body.contains(says), "{img}: {}", a.body);
    }
    assert_eq!(
        app::entities::training_courses::Entity::find()
            .count(&app.db)
            .await
            .unwrap(),
        0,
        "nothing stored for a refused course"
    );

    let a = save(with_image(format!(
        "![Das Tor mit Schloss](nachweis:{png})"
    )))
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let course = a.body.clone();
    let id = start(&staff, &course).await;
    let view = attempt(&staff, id).await;
    let image = view
        .content
        .iter()
        .find(|b| b.kind == "image")
        .expect("an image block");
    assert_eq!(image.text, "Das Tor mit Schloss");
    let src = image.src.clone().unwrap();
    assert_eq!(src, format!("/schulungen/bild/{}/{png}", view.version_id));
    let get = |c: &Client, path: String, etag: Option<String>| {
        let mut req = c.http.get(format!("{}{path}", c.base));
        if let Some(tag) = etag {
            req = req.header("If-None-Match", tag);
        }
        async move {
            let res = req.send().await.unwrap();
            let headers = res.headers().clone();
            (res.status(), headers, res.bytes().await.unwrap().to_vec())
        }
    };
    let (status, headers, bytes) = get(&staff, src.clone(), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(bytes, PNG);
    assert_eq!(headers["content-type"], "image/png");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    let etag = headers["etag"].to_str().unwrap().to_owned();
    let (status, _, _) = get(&staff, src.clone(), Some(etag)).await;
    assert_eq!(status, StatusCode::NOT_MODIFIED);
    // Other evidence through the same door, another organisation, no session: no.
    let pdf_path = format!("/schulungen/bild/{}/{pdf}", view.version_id);
    assert_eq!(get(&staff, pdf_path, None).await.0, StatusCode::NOT_FOUND);
    assert_eq!(
        get(&stranger, src.clone(), None).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get(&app.client(), src.clone(), None).await.0,
        StatusCode::UNAUTHORIZED
    );
    app.stop().await;
}
both!(course_images_come_from_evidence_for_readers_only);
