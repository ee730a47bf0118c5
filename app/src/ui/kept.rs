//! What someone typed into a form the server refused, kept for the page the
//! form comes back to.
//!
//! A refused form post (a server function's or a plain form route's) is
//! answered with a redirect back to the page, the error in the address
//! (`__err`, `fehler`). The page then renders the stored data again, so
//! whatever was typed would be gone: a DPO who rewrote a measure and met a
//! version conflict would have to write it again. For the forms the server
//! names (plain text only: no passwords, no tokens), `http::keep_refused_forms`
//! keeps the posted fields of a signed-in person's refused post in the session for the next page view that
//! shows an error, and the form's fields start from them through [`typed`].
//!
//! Only a refused post is kept, and the page that shows its error takes it
//! out of the session again; a page view without an error touches nothing.
//! The same with and without JavaScript: outside the islands, every form
//! posts and comes back.

use leptos::prelude::*;

/// The posted fields of one refused form and where it was posted to.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct KeptForm {
    /// Who posted it, in which organisation (user id, organisation id): a
    /// page view of anyone else, or in another organisation, drops it.
    pub owner: (i32, i32),
    /// The path the form posted to (a server function's `PATH`, or a plain
    /// route such as `/kunden/3/angaben`).
    pub action: String,
    /// The posted pairs, in order (a name may repeat: check boxes).
    pub fields: Vec<(String, String)>,
}

impl KeptForm {
    /// The first value posted under `field`.
    pub fn get(&self, field: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == field)
            .map(|(_, v)| v.as_str())
    }

    /// Every value posted under `field`.
    pub fn all(&self, field: &str) -> Vec<&str> {
        self.fields
            .iter()
            .filter(|(k, _)| k == field)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

/// The refused form posted to `action`, when the page being rendered shows
/// its error; `None` in the browser and for every other page view.
pub fn kept(action: &str) -> Option<KeptForm> {
    #[cfg(feature = "ssr")]
    {
        use_context::<axum::http::request::Parts>()
            .and_then(|parts| parts.extensions.get::<KeptForm>().cloned())
            .filter(|k| k.action == action)
    }
    #[cfg(not(feature = "ssr"))]
    {
        let _ = action;
        None
    }
}

/// What was typed into `field` of the refused form posted to the server
/// function `S`, else `stored` (what the field shows otherwise).
pub fn typed<S: server_fn::ServerFn>(field: &str, stored: String) -> String {
    typed_at(S::PATH, field, stored)
}

/// [`typed`] for a plain form route posted to `action`.
pub fn typed_at(action: &str, field: &str, stored: String) -> String {
    or_stored(&kept(action), field, stored)
}

/// What was typed into `field` of a form's `kept` input, else `stored`
/// (for forms that choose their kept input themselves: one of many).
pub fn or_stored(kept: &Option<KeptForm>, field: &str, stored: String) -> String {
    kept.as_ref()
        .and_then(|k| k.get(field))
        .map_or(stored, str::to_owned)
}
