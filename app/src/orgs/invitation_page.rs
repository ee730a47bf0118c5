//! Accepting an invitation: set name and password (or confirm an existing account).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use super::{AcceptInvitation, get_invitation};
use crate::ui::{ErrorView, FormError, Loading};

#[component]
pub fn InvitationPage() -> impl IntoView {
    let params = use_params_map();
    let token = move || params.with(|p| p.get("token").unwrap_or_default());
    let accept = ServerAction::<AcceptInvitation>::new();
    expect_context::<crate::ui::Auth>().refresh_on_success(accept.value());
    let info = Resource::new(token, get_invitation);
    view! {
        <Title text="Einladung" />
        <section class="page narrow">
            <h1>"Einladung annehmen"</h1>
            <Suspense fallback=Loading>
                {move || Suspend::new(async move {
                    match info.await {
                        Ok(i) => {
                            view! {
                                <p>
                                    {format!(
                                        "Sie wurden als {} zu {} eingeladen ({}).",
                                        i.role.label(),
                                        i.org_name,
                                        i.email,
                                    )}
                                </p>
                                <ActionForm action=accept attr:class="form">
                                    <input type="hidden" name="token" value=token() />
                                    {if i.has_account {
                                        view! {
                                            <input type="hidden" name="display_name" value="" />
                                            <label for="password">"Passwort Ihres bestehenden Kontos"</label>
                                            <input id="password" type="password" name="password" required autocomplete="current-password" />
                                        }
                                            .into_any()
                                    } else {
                                        view! {
                                            <label for="display_name">"Ihr Name"</label>
                                            <input id="display_name" name="display_name" required maxlength="120" autocomplete="name" />
                                            <label for="password">"Neues Passwort (mindestens 12 Zeichen)"</label>
                                            <input id="password" type="password" name="password" required minlength="12" autocomplete="new-password" />
                                        }
                                            .into_any()
                                    }}
                                    <FormError value=accept.value() />
                                    <button type="submit" class="button primary">
                                        "Annehmen"
                                    </button>
                                </ActionForm>
                            }
                                .into_any()
                        }
                        Err(e) => view! { <ErrorView err=e /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}
