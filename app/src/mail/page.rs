//! The outbox for admins: every message with its state, and a retry button
//! for the failed ones.

use leptos::prelude::*;
use leptos_meta::Title;

use super::{OutboxStatus, RetryMessage, list_outbox};
use crate::ui::{ErrorView, FormError, Loading};

#[component]
pub fn OutboxPage() -> impl IntoView {
    let retry = ServerAction::<RetryMessage>::new();
    let rows = Resource::new(move || retry.version().get(), |_| list_outbox());
    view! {
        <Title text="Postausgang" />
        <section class="page wide">
            <h1>"Postausgang"</h1>
            <p class="lead">
                "Jede Nachricht, die Nachweis verschickt: Einladungen und Erinnerungen. Fehlgeschlagene Zustellungen werden mehrfach wiederholt; danach können Sie sie hier erneut anstoßen."
            </p>
            <FormError value=retry.value() />
            <Suspense fallback=Loading>
                {move || Suspend::new(async move {
                    match rows.await {
                        Ok(list) if list.is_empty() => view! { <p class="muted">"Noch keine Nachrichten."</p> }.into_any(),
                        Ok(list) => {
                            view! {
                                <table class="table outbox">
                                    <thead>
                                        <tr>
                                            <th>"Erstellt"</th>
                                            <th>"An"</th>
                                            <th>"Betreff"</th>
                                            <th>"Status"</th>
                                            <th>"Versuche"</th>
                                            <th>"Antwort des Mailservers"</th>
                                            <th></th>
                                        </tr>
                                    </thead>
                                    <tbody>
                                        {list
                                            .into_iter()
                                            .map(|m| {
                                                let retryable = matches!(m.status, OutboxStatus::Failed);
                                                let detail = match m.status {
                                                    OutboxStatus::Sent => m.server_reply.clone().unwrap_or_default(),
                                                    OutboxStatus::Queued if m.attempts > 0 => format!(
                                                        "{} · nächster Versuch {}",
                                                        m.last_error.clone().unwrap_or_default(),
                                                        m.next_attempt_at,
                                                    ),
                                                    _ => m.last_error.clone().unwrap_or_default(),
                                                };
                                                view! {
                                                    <tr data-status=m.status.as_str()>
                                                        <td>{m.created_at.to_string()}</td>
                                                        <td>{m.recipient.clone()}</td>
                                                        <td>{m.subject.clone()}</td>
                                                        <td>
                                                            <span class=format!("badge outbox-{}", m.status.as_str())>{m.status.label()}</span>
                                                            {m.sent_at.map(|t| view! { <br /><small>{t.to_string()}</small> })}
                                                        </td>
                                                        <td>{m.attempts}</td>
                                                        <td class="reply">{detail}</td>
                                                        <td>
                                                            {retryable
                                                                .then(|| {
                                                                    view! {
                                                                        <ActionForm action=retry attr:class="inline">
                                                                            <input type="hidden" name="id" value=m.id.to_string() />
                                                                            <button type="submit" class="button small">"Erneut senden"</button>
                                                                        </ActionForm>
                                                                    }
                                                                })}
                                                        </td>
                                                    </tr>
                                                }
                                            })
                                            .collect_view()}
                                    </tbody>
                                </table>
                            }
                                .into_any()
                        }
                        Err(e) => view! { <ErrorView err=e page=true /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}
