//! Where each measure stands on one day: its best evidence file and its
//! next effectiveness review, by the rules of `evidence` and `reviews`
//! (one computation: the catalogue's columns and filters, the start page
//! and the digest agree). Read with a fixed number of statements for any
//! number of measures.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};

use crate::domain::{MeasureStatus, Validity};
use crate::entities::measures;
use crate::error::AppResult;
use crate::ids::{MeasureId, OrgId};
use crate::toms::service::Standing;

pub struct Standings {
    evidence: HashMap<MeasureId, Validity>,
    last_reviewed: HashMap<MeasureId, NaiveDate>,
    today: NaiveDate,
}

impl Standings {
    pub async fn load<C: sea_orm::ConnectionTrait>(
        db: &C,
        org_id: OrgId,
        now: DateTime<Utc>,
    ) -> AppResult<Self> {
        let files = crate::evidence::service::Files::load(db, org_id).await?;
        let last = crate::reviews::service::last_reviews(db, org_id).await?;
        Ok(Self::of_read(&files, &last, now))
    }

    /// The standings from evidence files and last reviews a page has read
    /// already (the start page needs them for its attention lists too).
    pub fn of_read(
        files: &crate::evidence::service::Files,
        last_reviews: &HashMap<MeasureId, (NaiveDate, Option<crate::reviews::ReviewResult>)>,
        now: DateTime<Utc>,
    ) -> Self {
        let today = crate::format::german_day(now);
        Self {
            evidence: files.best_by_measure(today),
            last_reviewed: last_reviews
                .iter()
                .map(|(m, (day, _))| (*m, *day))
                .collect(),
            today,
        }
    }

    pub fn of(&self, m: &measures::Model) -> Standing {
        use crate::reviews::service::{is_due, next_due};
        let next = (m.status == MeasureStatus::Implemented)
            .then(|| next_due(m, self.last_reviewed.get(&m.id).copied()));
        Standing {
            evidence: self.evidence.get(&m.id).copied(),
            next_review: next,
            review_due: next.is_some_and(|d| is_due(m.status, d, self.today)),
        }
    }
}
