//! The measure's page and the catalogue as a worklist (aggregator): the
//! measures of `toms` with what the features below know about them,
//! their evidence (`evidence`) and their reviews (`reviews`). The
//! measures' own data and server functions belong to `toms`; this folder
//! composes, and computes where each measure stands.

mod catalogue_page;
mod page;
pub use catalogue_page::CataloguePage;
pub use page::MeasurePage;

#[cfg(feature = "ssr")]
pub mod standings;

use leptos::prelude::*;

use crate::error::AppError;
use crate::toms::{CatalogueView, MeasureSummary};

/// The catalogue; `filter` (a [`CatalogueFilter`] slug), `q` (search text)
/// and `meine` narrow it down, as the page's GET parameters do.
#[server(endpoint = "toms/catalogue")]
pub async fn get_catalogue(
    filter: Option<String>,
    q: Option<String>,
    meine: Option<String>,
) -> Result<CatalogueView, AppError> {
    let (state, actor) = crate::auth::require_internal().await?;
    use crate::toms::{CatalogueFilter, CatalogueQuery};
    let query = CatalogueQuery {
        filter: filter.as_deref().and_then(CatalogueFilter::parse),
        search: q.unwrap_or_default(),
        mine: meine.is_some_and(|m| !m.is_empty()),
    };
    // One read transaction for the page (see `BeginRead`).
    use crate::entities::BeginRead;
    let txn = state.db.begin_read().await?;
    let standings = standings::Standings::load(&txn, actor.org_id, state.now()).await?;
    let view = crate::toms::service::catalogue(&txn, &actor, &query, &|m| standings.of(m)).await?;
    txn.commit().await?;
    Ok(view)
}

/// The measures the signed-in person is responsible for.
#[server(endpoint = "toms/my-measures")]
pub async fn my_measures() -> Result<Vec<MeasureSummary>, AppError> {
    let (state, actor) = crate::auth::require_internal().await?;
    let standings = standings::Standings::load(&state.db, actor.org_id, state.now()).await?;
    crate::toms::service::owned_by(&state.db, actor.org_id, actor.user_id, &|m| standings.of(m))
        .await
}
