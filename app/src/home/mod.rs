//! What every signed-in person sees first (aggregator): the frame of every
//! page with the navigation by role, and the start page that gathers what
//! needs the person's attention from the features.

mod layout;
mod login_page;
mod start_page;
pub use layout::Layout;
pub use login_page::LoginPage;
pub use start_page::HomePage;
