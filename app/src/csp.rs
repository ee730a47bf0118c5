//! The Content-Security-Policy of every response. Pages get a fresh nonce
//! per response (Leptos puts it on its hydration and streaming scripts);
//! everything else (files, JSON, the small SSO pages) allows no script.

/// The policy of a rendered page: scripts only from this site or with this
/// response's nonce, WebAssembly compiled from this site, no inline styles,
/// connections, forms and frames only to this site.
pub fn page_policy(nonce: &str) -> String {
    format!(
        "default-src 'none'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; style-src 'self'; \
         img-src 'self' data:; font-src 'self'; connect-src 'self'; manifest-src 'self'; \
         form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
    )
}

/// The policy of every other response: nothing runs.
pub const DEFAULT_POLICY: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; \
     form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

/// Sets the page policy with this response's nonce (during server rendering).
pub fn set_page_policy() {
    use leptos::prelude::use_context;
    let (Some(nonce), Some(res)) = (
        leptos::nonce::use_nonce(),
        use_context::<leptos_axum::ResponseOptions>(),
    ) else {
        return;
    };
    if let Ok(value) = axum::http::HeaderValue::from_str(&page_policy(&nonce)) {
        res.insert_header(axum::http::header::CONTENT_SECURITY_POLICY, value);
    }
}
