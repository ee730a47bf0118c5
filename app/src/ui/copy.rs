//! The copy button beside a checksum or link: an island, so the page
//! around it needs no WebAssembly of its own.

use leptos::prelude::*;

/// Copies `text` to the clipboard. Without JavaScript the button is not
/// shown (it could do nothing); the value beside it selects with one click
/// (`user-select: all`). Where the browser refuses the clipboard (an
/// address without HTTPS), the button says how to copy by hand.
#[island]
pub fn CopyButton(
    /// What is copied.
    text: String,
    /// What the button names, e.g. "Prüfsumme kopieren".
    label: String,
) -> impl IntoView {
    let ready = RwSignal::new(false);
    let said = RwSignal::new(None::<&'static str>);
    Effect::new(move |_| ready.set(true));
    #[cfg(not(feature = "hydrate"))]
    let _ = (&text, said);
    let copy = move |_| {
        #[cfg(feature = "hydrate")]
        {
            let text = text.clone();
            leptos::task::spawn_local(async move {
                said.set(Some(match write_clipboard(&text).await {
                    true => "Kopiert",
                    false => "Bitte markieren und mit Strg+C kopieren",
                }));
            });
        }
    };
    view! {
        <button
            type="button"
            class="button small copy"
            hidden=move || !ready.get()
            aria-label=label.clone()
            on:click=copy
            data-test="copy"
        >
            "Kopieren"
        </button>
        // The live region exists only where the button works: rendered
        // empty without JavaScript it would be a status that never speaks,
        // hidden from readers by the stylesheet alone.
        {move || {
            ready
                .get()
                .then(|| view! { <span class="copy-said" role="status">{move || said.get()}</span> })
        }}
    }
}

#[cfg(feature = "hydrate")]
async fn write_clipboard(text: &str) -> bool {
    let Some(window) = web_sys::window() else {
        return false;
    };
    let promise = window.navigator().clipboard().write_text(text);
    wasm_bindgen_futures::JsFuture::from(promise).await.is_ok()
}
