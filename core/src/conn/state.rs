//! The state machine of a connection, in the manner of h11: one state per
//! side (the client's requests, the server's responses), changed only
//! here, by the two tables below. Everything that moves a state lives in
//! this file; receiving and sending report what happened and read the
//! states back. The machine does not know which role it plays, except
//! that a client may pipeline (coupling 11).
//!
//! # What happened, and where each side goes
//!
//! A side changes state when something happens to it. The table, one
//! edge per line (a test reads it and checks that [`transition`] has
//! exactly these edges):
//!
//! ```text
//! side    from                   what happened     to
//! client  Idle                   head              SendBody
//! client  MightSwitchProtocol    head              SendBody
//! client  SendBody               end               Done
//! client  SendBody               abandon           MustClose
//! client  Idle                   close             Closed
//! client  Done                   close             Closed
//! client  MightSwitchProtocol    close             Closed
//! client  MustClose              close             Closed
//! client  Closed                 close             Closed
//! server  Idle                   head              SendBody
//! server  SendResponse           informational     SendResponse
//! server  SendResponse           head              SendBody
//! server  SendResponse           switch            SwitchedProtocol
//! server  SendBody               end               Done
//! server  Idle                   close             Closed
//! server  Done                   close             Closed
//! server  MustClose              close             Closed
//! server  Closed                 close             Closed
//! ```
//!
//! and, from every state of either side, `error` leads to `Error`.
//! `head` is a request head on the client side and a final response head
//! on the server side (from `Idle`: an error answered before any request
//! was read); `informational` a 1xx; `switch` a 101 to an upgrade
//! proposal or a 2xx to CONNECT (a client may pipeline a request after
//! one that proposed a switch: if the switch happens, its bytes were the
//! new protocol's); `abandon` a request body given up
//! because its response came first and declined it (a held
//! `100-continue` body); `close` the side's end of the connection closed.
//!
//! # Couplings
//!
//! After every change, these rules apply, in this order, until none does
//! (h11's state-triggered transitions):
//!
//! ```text
//!  1  client Done, a switch proposed                          -> client MightSwitchProtocol
//!  2  client MightSwitchProtocol, no switch proposed          -> client Done
//!  3  server SwitchedProtocol, client not Closed or Error     -> client SwitchedProtocol
//!  4  server Idle, a request waits for its response           -> server SendResponse
//!  5  client Idle or Done, the connection closes              -> client MustClose
//!  6  server Done, or Idle with the client side not in
//!     Error, the connection closes, no other request waits    -> server MustClose
//!  7  server MustClose, client SendBody                       -> client MustClose
//!  8  client Closed or Error, server Done (or Idle if Closed) -> server MustClose
//!  9  server Closed or Error, client Idle or Done             -> client MustClose
//! 10  client Done, server Done, the connection persists       -> client Idle, server Idle
//! 11  pipelining: client Done, the connection persists, no
//!     switch proposed                                         -> client Idle
//! 12  pipelining: server Done, the connection persists or
//!     another request waits                                   -> server Idle
//! ```
//!
//! A server reads one request at a time: the client side stays `Done`
//! until the response is `Done` too (rule 10), since the response may
//! close or switch the connection. A client may pipeline (rules 11 and
//! 12): its side returns to `Idle` as soon as a request is complete, and
//! responses are matched to requests in order. Rule 7 ends a request
//! body whose response closed the connection: nothing more of it is read
//! (RFC 9112 section 9.6) or sent (RFC 9112 section 9.5). An error
//! from the peer leaves our side where it is, so that a server can still
//! answer it (rule 8 spares `Idle`); our own mistakes are refused
//! ([`Misuse`](crate::Misuse)) without a change of state.
//!
//! The two sides, drawn apart; a number on an arrow is a coupling:
//!
//! ```text
//!   client side (requests)
//!
//!          +------+ head  +----------+  end  +------+  (1)  +---------------------+
//!   +----->| Idle |------>| SendBody |------>| Done |------>| MightSwitchProtocol |
//!   |      +------+       +----------+       +------+<------+---------------------+
//!   |         |                | abandon,       |  |    (2)           | (3)
//!   |         | (5, 9)         | (7)            |  | (5, 9)           v
//!   |         |                v                |  |        +------------------+
//!   |         +--------->+-----------+<---------|--+        | SwitchedProtocol |
//!   |                    | MustClose |          |           +------------------+
//!   |                    +-----------+          |
//!   |                         | close           |
//!   |                         v                 |
//!   |                    +--------+             |
//!   |                    | Closed |             |
//!   |                    +--------+             |
//!   +-------------------------------------------+
//!                       (10, 11)
//!
//!   server side (responses)
//!
//!            (4) a request waits       head               end
//!          +------+---->+--------------+---->+----------+---->+------+
//!   +----->| Idle |     | SendResponse |     | SendBody |     | Done |
//!   |      +------+-+   +--------------+     +----------+     +------+
//!   |        |      |    |  ^     | switch        ^            |   |
//!   |        |      |    +--+     v               |            |   | (6, 8)
//!   |        |      | informational               |            |   v
//!   |        |      |    +------------------+     |            | +-----------+ close +--------+
//!   |        |      |    | SwitchedProtocol |     |            | | MustClose |------>| Closed |
//!   |        |      |    +------------------+     |            | +-----------+       +--------+
//!   |        |      +-----------------------------+ head       |   ^
//!   |        +-------------------------------------------------|---+ (6, 8)
//!   +----------------------------------------------------------+
//!                       (10, 12)
//!
//!   Either side: Idle, Done (and, client, MightSwitchProtocol) --close--> Closed;
//!   any state --error--> Error.
//! ```

use std::collections::VecDeque;

use crate::semantics::Asked;

/// The state of one side of a connection, in the manner of h11.
///
/// Each side of a connection (the client's requests, the server's
/// responses) is in one `State`; [`Connection::our_state`] and
/// [`Connection::their_state`] report them. What moves them is written
/// out as two tables, with a diagram, in the docs of this type's module
/// source (`conn/state.rs`): events on one side, and couplings between
/// the two.
///
/// [`Connection::our_state`]: crate::Connection::our_state
/// [`Connection::their_state`]: crate::Connection::their_state
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum State {
    /// Between messages.
    Idle,
    /// Server side: a request waits for its response (1xx responses may
    /// be sent first).
    SendResponse,
    /// A head was sent or received; its body is in progress.
    SendBody,
    /// This side's message is complete; waiting for the other side.
    Done,
    /// This side's last message is complete (or given up): the connection
    /// closes once the other side's part is done and the output written.
    MustClose,
    /// This side's end of the connection closed.
    Closed,
    /// Client side: the request proposed a switch and is complete; the
    /// response decides.
    MightSwitchProtocol,
    /// The connection left HTTP/1.1.
    SwitchedProtocol,
    /// This side broke the protocol; nothing more will be exchanged.
    Error,
}

/// Which side of the connection a state machine plays (and which side of
/// a connection a state belongs to).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// Reads requests, writes responses.
    Server,
    /// Writes requests, reads responses.
    Client,
}

/// Why a connection closes once its current exchange is done.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CloseReason {
    /// The peer sent `Connection: close`.
    PeerAskedClose,
    /// We sent `Connection: close`.
    WeAskedClose,
    /// HTTP/1.0 without `Connection: keep-alive`.
    Http10,
    /// A body delimited by the end of the connection.
    CloseDelimitedBody,
    /// A request body will not be sent or read in full: its response came
    /// first and closes the connection, or answered a `100-continue`
    /// request without asking for the body.
    UnsentBody,
    /// The peer closed its end.
    PeerClosed,
    /// The keep-alive idle deadline passed.
    IdleTimeout,
    /// We decided the connection ends after the current exchange (a
    /// graceful shutdown): [`Connection::close_after_exchange`](crate::Connection::close_after_exchange).
    Shutdown,
    /// A protocol error, by either side, or a deadline that failed a message.
    Error,
}

/// What happened to one side: the inputs of [`transition`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Input {
    /// A request head (client side) or a final response head (server side).
    Head,
    /// A 1xx response other than a switching 101.
    Informational,
    /// A response that switches protocols.
    Switch,
    /// The side's message is complete.
    End,
    /// The rest of the side's message will not be sent.
    Abandon,
    /// The side's end of the connection closed.
    Close,
    /// The side broke the protocol.
    Error,
}

/// The event-triggered transitions: where `side` goes from `state` when
/// `input` happens to it, or `None` if that cannot happen there.
pub(crate) fn transition(side: Role, state: State, input: Input) -> Option<State> {
    use Input as I;
    use Role::{Client, Server};
    use State::*;
    Some(match (side, state, input) {
        (_, _, I::Error) => Error,
        (Client, Idle | MightSwitchProtocol, I::Head) => SendBody,
        (Client, SendBody, I::End) => Done,
        (Client, SendBody, I::Abandon) => MustClose,
        (Client, Idle | Done | MightSwitchProtocol | MustClose | Closed, I::Close) => Closed,
        (Server, Idle, I::Head) => SendBody,
        (Server, SendResponse, I::Informational) => SendResponse,
        (Server, SendResponse, I::Head) => SendBody,
        (Server, SendResponse, I::Switch) => SwitchedProtocol,
        (Server, SendBody, I::End) => Done,
        (Server, Idle | Done | MustClose | Closed, I::Close) => Closed,
        _ => return None,
    })
}

/// One request and its response, from the request head until the
/// response is complete.
#[derive(Clone, Debug, Default)]
pub(crate) struct Exchange {
    /// What the request asked.
    pub asked: Asked,
    /// Server: a `100 Continue` was sent for it.
    pub continue_sent: bool,
}

/// Both sides' states and what couples them.
#[derive(Debug)]
pub(crate) struct Machine {
    client: State,
    server: State,
    /// Why the connection closes after the current exchange: `None` while
    /// it persists (h11's keep-alive), set once, never unset.
    close: Option<CloseReason>,
    /// A request proposed a switch and no final response declined it.
    switch_proposed: bool,
    /// Requests whose response is not complete, oldest first: the front
    /// one is answered while the server side is past `Idle`.
    exchanges: VecDeque<Exchange>,
    /// The client side may begin a request before the previous response
    /// (rules 11 and 12).
    pipelining: bool,
}

impl Machine {
    pub(crate) fn new(role: Role) -> Self {
        Machine {
            client: State::Idle,
            server: State::Idle,
            close: None,
            switch_proposed: false,
            exchanges: VecDeque::new(),
            pipelining: role == Role::Client,
        }
    }

    pub(crate) fn state(&self, side: Role) -> State {
        match side {
            Role::Client => self.client,
            Role::Server => self.server,
        }
    }

    pub(crate) fn close_reason(&self) -> Option<CloseReason> {
        self.close
    }

    pub(crate) fn is_switch_proposed(&self) -> bool {
        self.switch_proposed
    }

    /// The exchange being answered, once the server side works on it.
    pub(crate) fn current(&self) -> Option<&Exchange> {
        match self.server {
            State::Idle => None,
            _ => self.exchanges.front(),
        }
    }

    pub(crate) fn current_mut(&mut self) -> Option<&mut Exchange> {
        match self.server {
            State::Idle => None,
            _ => self.exchanges.front_mut(),
        }
    }

    /// The exchange the next response head answers: the current one, or
    /// the oldest waiting.
    pub(crate) fn answered(&self) -> Option<&Exchange> {
        self.exchanges.front()
    }

    /// Requests sent or received whose response is not complete.
    pub(crate) fn exchanges(&self) -> usize {
        self.exchanges.len()
    }

    /// Applies `input` to `side`, then the couplings. `false` (and no
    /// change) if the table has no such edge.
    pub(crate) fn apply(&mut self, side: Role, input: Input) -> bool {
        let Some(next) = transition(side, self.state(side), input) else {
            return false;
        };
        match side {
            Role::Client => self.client = next,
            Role::Server => self.server = next,
        }
        self.settle();
        true
    }

    /// A request head: a new exchange that asked `asked`; `close` if the
    /// request ends the connection after it.
    pub(crate) fn request(&mut self, asked: Asked, close: Option<CloseReason>) -> bool {
        if transition(Role::Client, self.client, Input::Head).is_none() {
            return false;
        }
        self.switch_proposed |= asked.proposes_switch();
        self.exchanges.push_back(Exchange {
            asked,
            continue_sent: false,
        });
        let applied = self.apply(Role::Client, Input::Head);
        if let Some(reason) = close {
            self.close(reason);
        }
        applied
    }

    /// A final response head that does not switch; `close` if it ends the
    /// connection after it (then requests pipelined after this one are
    /// never answered). It declines any switch the request proposed.
    pub(crate) fn response(&mut self, close: Option<CloseReason>) -> bool {
        if !matches!(self.server, State::SendResponse | State::Idle) {
            return false;
        }
        self.switch_proposed = false;
        let applied = self.apply(Role::Server, Input::Head);
        if let Some(reason) = close {
            self.exchanges.truncate(1);
            self.close(reason);
        }
        applied
    }

    /// Decides that the connection closes after the current exchange
    /// (the first reason given stays), then applies the couplings.
    pub(crate) fn close(&mut self, reason: CloseReason) {
        self.close.get_or_insert(reason);
        self.settle();
    }

    /// The couplings, applied until none changes anything.
    fn settle(&mut self) {
        use State::*;
        loop {
            let before = (self.client, self.server, self.exchanges.len());
            let persists = self.close.is_none();
            let others_wait = self.exchanges.len() > 1;
            // 1, 2, 3: a proposed switch
            match self.client {
                Done if self.switch_proposed => self.client = MightSwitchProtocol,
                MightSwitchProtocol if !self.switch_proposed => self.client = Done,
                _ => {}
            }
            if self.server == SwitchedProtocol && !matches!(self.client, Closed | Error) {
                self.client = SwitchedProtocol;
            }
            // 4: a request waits for its response
            if self.server == Idle && !self.exchanges.is_empty() {
                self.server = SendResponse;
            }
            // 5, 6: the connection closes
            if !persists {
                if matches!(self.client, Idle | Done) {
                    self.client = MustClose;
                }
                let answering = self.server == Idle && self.client == Error;
                if matches!(self.server, Idle | Done) && !others_wait && !answering {
                    self.server = MustClose;
                }
            }
            // 7: the response ended the connection before the request body
            if self.server == MustClose && self.client == SendBody {
                self.client = MustClose;
            }
            // 8, 9: one side is gone
            match (self.client, self.server) {
                (Closed, Idle | Done) | (Error, Done) => self.server = MustClose,
                (Idle | Done, Closed | Error) => self.client = MustClose,
                _ => {}
            }
            // 10, 11, 12: the next exchange
            if persists {
                let pipelined = self.pipelining && !self.switch_proposed;
                if self.client == Done && (self.server == Done || pipelined) {
                    self.client = Idle;
                }
            }
            if self.server == Done && ((persists && (self.client == Idle || self.pipelining)) || others_wait)
            {
                self.server = Idle;
                self.exchanges.pop_front();
            }
            if (self.client, self.server, self.exchanges.len()) == before {
                return;
            }
        }
    }

    /// Whether the state machine knows this many states as the couplings
    /// leave them: for tests.
    #[cfg(test)]
    pub(crate) fn set(&mut self, client: State, server: State) {
        self.client = client;
        self.server = server;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [State; 9] = [
        State::Idle,
        State::SendResponse,
        State::SendBody,
        State::Done,
        State::MustClose,
        State::Closed,
        State::MightSwitchProtocol,
        State::SwitchedProtocol,
        State::Error,
    ];
    const INPUTS: [Input; 7] = [
        Input::Head,
        Input::Informational,
        Input::Switch,
        Input::End,
        Input::Abandon,
        Input::Close,
        Input::Error,
    ];

    fn parse_state(s: &str) -> State {
        *ALL.iter()
            .find(|st| format!("{st:?}") == s)
            .unwrap_or_else(|| panic!("no state {s}"))
    }

    fn parse_input(s: &str) -> Input {
        *INPUTS
            .iter()
            .find(|i| format!("{i:?}").eq_ignore_ascii_case(s))
            .unwrap_or_else(|| panic!("no input {s}"))
    }

    /// The edges of the table in this module's docs, read from the source.
    fn documented_edges() -> Vec<(Role, State, Input, State)> {
        let source = include_str!("state.rs");
        let mut lines = source.lines().skip_while(|l| !l.contains("side    from"));
        lines.next();
        lines
            .take_while(|l| !l.contains("```"))
            .map(|l| {
                let words: Vec<&str> = l.trim_start_matches("//!").split_whitespace().collect();
                let side = if words[0] == "client" {
                    Role::Client
                } else {
                    Role::Server
                };
                (
                    side,
                    parse_state(words[1]),
                    parse_input(words[2]),
                    parse_state(words[3]),
                )
            })
            .collect()
    }

    #[test]
    fn the_table_in_the_docs_is_the_transition_function() {
        let documented = documented_edges();
        assert!(documented.len() > 10, "the table was read");
        for side in [Role::Client, Role::Server] {
            for from in ALL {
                for input in INPUTS {
                    let got = transition(side, from, input);
                    let doc = documented
                        .iter()
                        .find(|(s, f, i, _)| *s == side && *f == from && *i == input)
                        .map(|e| e.3);
                    let want = if input == Input::Error {
                        Some(State::Error)
                    } else {
                        doc
                    };
                    assert_eq!(got, want, "{side:?} {from:?} {input:?}");
                }
            }
        }
    }

    /// Every documented edge, walked on a machine put in its source state.
    #[test]
    fn every_edge_is_walked() {
        for (side, from, input, to) in documented_edges() {
            let mut m = Machine::new(Role::Server);
            // The other side where no coupling moves this one on.
            let other = match (side, from) {
                (Role::Client, State::SendBody) => State::SendResponse,
                (Role::Client, _) => State::SendResponse,
                (Role::Server, _) => State::SendBody,
            };
            match side {
                Role::Client => m.set(from, other),
                Role::Server => m.set(other, from),
            }
            m.exchanges.push_back(Exchange::default());
            assert!(m.apply(side, input), "{side:?} {from:?} {input:?}");
            assert_eq!(m.state(side), to, "{side:?} {from:?} {input:?}");
        }
    }

    #[test]
    fn server_cycle_waits_for_both_sides() {
        let mut m = Machine::new(Role::Server);
        assert!(m.request(Asked::default(), None));
        assert_eq!((m.client, m.server), (State::SendBody, State::SendResponse));
        assert!(m.response(None));
        assert!(m.apply(Role::Server, Input::End));
        assert_eq!(
            (m.client, m.server),
            (State::SendBody, State::Done),
            "the request body still arrives"
        );
        assert!(m.apply(Role::Client, Input::End));
        assert_eq!((m.client, m.server), (State::Idle, State::Idle));
        assert_eq!(m.exchanges(), 0);
    }

    #[test]
    fn client_pipelines_and_matches_responses_in_order() {
        let mut m = Machine::new(Role::Client);
        for _ in 0..2 {
            assert!(m.request(Asked::default(), None));
            assert!(m.apply(Role::Client, Input::End));
            assert_eq!(m.client, State::Idle);
        }
        assert_eq!(m.exchanges(), 2);
        assert_eq!(m.server, State::SendResponse);
        assert!(m.response(None));
        assert!(m.apply(Role::Server, Input::End));
        assert_eq!((m.server, m.exchanges()), (State::SendResponse, 1));
        // The last request asked to close: its response is the last.
        assert!(m.response(Some(CloseReason::PeerAskedClose)));
        assert!(m.apply(Role::Server, Input::End));
        assert_eq!((m.client, m.server), (State::MustClose, State::MustClose));
    }

    #[test]
    fn a_closing_request_is_answered_before_the_close() {
        let mut m = Machine::new(Role::Client);
        assert!(m.request(Asked::default(), None));
        assert!(m.apply(Role::Client, Input::End));
        assert!(m.request(Asked::default(), Some(CloseReason::WeAskedClose)));
        assert!(m.apply(Role::Client, Input::End));
        assert_eq!(m.client, State::MustClose, "nothing more may be sent");
        assert!(m.response(None));
        assert!(m.apply(Role::Server, Input::End));
        assert_eq!(m.server, State::SendResponse, "the second response is still read");
        assert!(m.response(None));
        assert!(m.apply(Role::Server, Input::End));
        assert_eq!(m.server, State::MustClose);
    }

    #[test]
    fn switch_proposals() {
        let upgrade = Asked {
            upgrade: Some(bytes::Bytes::from_static(b"websocket")),
            ..Asked::default()
        };
        let mut m = Machine::new(Role::Server);
        assert!(m.request(upgrade.clone(), None));
        assert!(m.apply(Role::Client, Input::End));
        assert_eq!(m.client, State::MightSwitchProtocol);
        assert!(m.apply(Role::Server, Input::Switch));
        assert_eq!(
            (m.client, m.server),
            (State::SwitchedProtocol, State::SwitchedProtocol)
        );

        let mut m = Machine::new(Role::Server);
        assert!(m.request(upgrade, None));
        assert!(m.apply(Role::Client, Input::End));
        assert!(m.response(None), "declined");
        assert_eq!(m.client, State::Done);
        assert!(m.apply(Role::Server, Input::End));
        assert_eq!((m.client, m.server), (State::Idle, State::Idle));
    }

    #[test]
    fn a_closing_response_ends_the_request_body() {
        let mut m = Machine::new(Role::Server);
        assert!(m.request(Asked::default(), None));
        assert!(m.response(Some(CloseReason::WeAskedClose)));
        assert_eq!(
            m.client,
            State::SendBody,
            "a streamed answer may still read the body"
        );
        assert!(m.apply(Role::Server, Input::End));
        assert_eq!((m.client, m.server), (State::MustClose, State::MustClose));
    }

    #[test]
    fn a_peer_error_leaves_a_server_free_to_answer() {
        let mut m = Machine::new(Role::Server);
        assert!(m.apply(Role::Client, Input::Error));
        assert_eq!(m.server, State::Idle);
        m.close(CloseReason::Error);
        assert_eq!(m.server, State::Idle, "the connection closes after the answer");

        let mut m = Machine::new(Role::Server);
        assert!(m.apply(Role::Client, Input::Error));
        assert!(m.response(Some(CloseReason::Error)));
        assert_eq!(m.server, State::SendBody);
        assert!(m.apply(Role::Server, Input::End));
        assert_eq!(m.server, State::MustClose);
    }

    #[test]
    fn an_idle_connection_closes_on_both_sides() {
        let mut m = Machine::new(Role::Server);
        m.close(CloseReason::IdleTimeout);
        assert_eq!((m.client, m.server), (State::MustClose, State::MustClose));
        assert!(m.apply(Role::Client, Input::Close));
        assert_eq!(m.client, State::Closed);
    }
}
