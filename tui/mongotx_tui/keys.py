"""Every key of the workbench in one table: bindings, F1 help, palette and README use it.

Ids are stable and kebab-case; users remap them in the config file's [keymap] table.
Keys avoid what terminals and tmux take (ctrl+b, ctrl+s, ctrl+o, ctrl+j, ctrl+c...).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class KeyDef:
    """One binding: its id (remappable), default key, action, and the words shown for it."""

    id: str
    key: str
    action: str
    description: str
    footer: bool = False
    help: str = ""


WORKBENCH_KEYS: tuple[KeyDef, ...] = (
    KeyDef("add-op", "a", "add_op", "Add op", True, "Queue an operation in the current lane"),
    KeyDef("step", "s", "step", "Step", True, "Run the next queued operation of the lane"),
    KeyDef("run-rest", "r", "run_rest", "Run rest", False, "Run the rest of the queue"),
    KeyDef("start-txn", "t", "start_txn", "Start txn", True, "Start a transaction (lane options)"),
    KeyDef(
        "start-txn-options",
        "T",
        "start_txn_options",
        "Start txn…",
        False,
        "Start a transaction, choosing read/write concern, read preference, maxCommitTimeMS",
    ),
    KeyDef("commit", "c", "commit", "Commit", True, "Commit the lane's transaction"),
    KeyDef("abort", "x", "abort", "Abort", True, "Abort the lane's transaction"),
    KeyDef(
        "run-outside",
        "o",
        "run_outside",
        "Run outside txn",
        False,
        "Run the next queued operation with no session, outside any transaction",
    ),
    KeyDef("end-session", "e", "end_session", "End session", False, "End the lane's session"),
    KeyDef(
        "lane-options",
        "O",
        "lane_options",
        "Lane options",
        False,
        "Session options of the lane: causalConsistency, snapshot, retryWrites, and the "
        "options its transactions start with",
    ),
    KeyDef("add-lane", "plus", "add_lane", "Add lane", False, "Add a session lane"),
    KeyDef("remove-lane", "minus", "remove_lane", "Remove lane", False, "Remove the current lane"),
    KeyDef(
        "rename-lane",
        "N",
        "rename_lane",
        "Rename lane",
        False,
        "Rename and recolour the current lane",
    ),
    KeyDef(
        "maximise-lane",
        "z",
        "maximise_lane",
        "Maximise lane",
        False,
        "Show the current lane alone across the width (the others hidden), or all lanes again",
    ),
    KeyDef("next-lane", "right_square_bracket", "next_lane", "Next lane", False, "Next lane"),
    KeyDef(
        "prev-lane", "left_square_bracket", "prev_lane", "Previous lane", False, "Previous lane"
    ),
    KeyDef(
        "view-docs",
        "v",
        "view_docs",
        "View docs",
        False,
        "List what the lane's transaction reads; open one in full",
    ),
    KeyDef(
        "next-page",
        "greater_than_sign",
        "next_page",
        "Next page",
        False,
        "Committed panel: next page",
    ),
    KeyDef(
        "prev-page",
        "less_than_sign",
        "prev_page",
        "Previous page",
        False,
        "Committed panel: previous page",
    ),
    KeyDef(
        "watch-collection",
        "W",
        "watch_collection",
        "Watch collection",
        False,
        "Watch another database and collection",
    ),
    KeyDef(
        "refresh", "f5", "refresh", "Refresh", False, "Re-read the committed panel and lane views"
    ),
    KeyDef(
        "command-monitor",
        "m",
        "toggle_monitor",
        "Monitor",
        False,
        "Show or hide the command monitor (in the timeline's place): every command sent and "
        "its reply; in it, enter opens one, f filters by lane, i shows the workbench's own",
    ),
    KeyDef(
        "members-panel",
        "M",
        "toggle_members",
        "Members",
        False,
        "Show or hide the replica set's members (replSetGetStatus, polled): state, optime, "
        "lag, paused or delayed; in it, p pauses, y delays, D steps the primary down",
    ),
    KeyDef(
        "view-member",
        "V",
        "view_member",
        "View member",
        False,
        "Committed panel: show the primary's data, or one member's own (a direct read)",
    ),
    KeyDef(
        "inject-fault",
        "F",
        "inject_fault",
        "Inject fault",
        False,
        "Set a failCommand fail point (a lost commit reply, a retryable error, a transient "
        "error, a writeConcernError, a block) or turn it off",
    ),
    KeyDef(
        "server-view",
        "S",
        "server_view",
        "Server view",
        False,
        "The deployment's open transactions (the lanes' and other clients'), refreshed "
        "live, and what waits behind them; in it, k kills the highlighted session",
    ),
    KeyDef("connect", "f2", "connect", "Connect", False, "Switch deployment (URI or the sandbox)"),
    KeyDef(
        "load-scenario",
        "l",
        "load_scenario",
        "Load scenario",
        False,
        "Load a built-in scenario, a draft or a scenario file into the lanes",
    ),
    KeyDef(
        "next-step",
        "n",
        "next_step",
        "Next step",
        True,
        "Run the loaded scenario's next step (in its lane) and check it",
    ),
    KeyDef(
        "save-scenario",
        "w",
        "save_scenario",
        "Save scenario",
        False,
        "Save the workbench as a scenario file (the steps run, with their outcomes)",
    ),
    KeyDef(
        "presenter",
        "P",
        "toggle_presenter",
        "Presenter mode",
        False,
        "Presenter mode for a projector: high-contrast theme, no footer or toolbar, more "
        "space, a caption of each step, what changed highlighted for a few seconds",
    ),
    KeyDef(
        "export-code",
        "p",
        "export_code",
        "Export code",
        False,
        "Show the scenario as a pymongo script (sync, async, with_transaction); copy or save",
    ),
    KeyDef(
        "export-diagram",
        "D",
        "export_diagram",
        "Export diagram",
        False,
        "Draw the history as a sequence diagram (.svg, Mermaid .md or .txt), the anomalies "
        "named; write it to a file",
    ),
)

QUEUE_KEYS: tuple[KeyDef, ...] = (
    KeyDef(
        "edit-op", "enter", "edit_op", "Edit op", False, "Queue: edit the highlighted operation"
    ),
    KeyDef("duplicate-op", "d", "duplicate_op", "Duplicate op", False, "Queue: duplicate it"),
    KeyDef("delete-op", "delete", "delete_op", "Delete op", False, "Queue: delete it"),
    KeyDef("move-op-up", "shift+up", "move_op(-1)", "Move up", False, "Queue: move it up"),
    KeyDef("move-op-down", "shift+down", "move_op(1)", "Move down", False, "Queue: move it down"),
)

MONITOR_KEYS: tuple[KeyDef, ...] = (
    KeyDef(
        "open-command",
        "enter",
        "select",
        "Open command",
        True,
        "Command monitor: the highlighted command and its reply in full",
    ),
    KeyDef(
        "filter-lane", "f", "filter_lane", "Filter lane", True, "Command monitor: one lane, or all"
    ),
    KeyDef(
        "own-traffic",
        "i",
        "toggle_internal",
        "Own traffic",
        True,
        "Command monitor: also list the workbench's own reads (panels, views, monitoring)",
    ),
)

MEMBERS_KEYS: tuple[KeyDef, ...] = (
    KeyDef(
        "pause-member",
        "p",
        "pause_member",
        "Pause/resume",
        True,
        "Members: pause or resume the highlighted member's replication (the rsSyncApplyStop "
        "fail point on that member)",
    ),
    KeyDef(
        "delay-member",
        "y",
        "delay_member",
        "Delay",
        True,
        "Members: delay the highlighted member's replication by 0, 2, 5 or 10 s in turn "
        "(the sandbox's sandboxMember)",
    ),
    KeyDef(
        "step-down",
        "D",
        "step_down",
        "Step down",
        True,
        "Members: step the primary down (replSetStepDown 60, confirmed); an election follows",
    ),
)

TIMELINE_KEYS: tuple[KeyDef, ...] = (
    KeyDef(
        "open-step",
        "enter",
        "select_cursor",
        "Open step",
        False,
        "Timeline: the highlighted step in full: the operation, its options, the commands "
        "sent and the server's replies, the documents touched, the lane before and after",
    ),
)

SERVER_VIEW_KEYS: tuple[KeyDef, ...] = (
    KeyDef(
        "kill-session",
        "k",
        "kill",
        "Kill session",
        True,
        "Server view: kill the highlighted transaction's session (killSessions, confirmed)",
    ),
    KeyDef(
        "close-server-view",
        "escape,S",
        "close",
        "Back",
        True,
        "Server view: back to the workbench",
    ),
)

APP_SESSIONS_KEYS: tuple[KeyDef, ...] = (
    KeyDef(
        "live-filter-app",
        "a",
        "filter_app",
        "Filter app",
        True,
        "Live view: only one application's sessions (by appName), the next, or all",
    ),
    KeyDef(
        "live-filter-db",
        "d",
        "filter_db",
        "Filter db",
        True,
        "Live view: only sessions that used one database, the next, or all",
    ),
    KeyDef(
        "live-txns-only",
        "t",
        "txns_only",
        "Only txns",
        True,
        "Live view: only sessions with transactions, or all",
    ),
    KeyDef(
        "live-clear",
        "x",
        "clear_finished",
        "Clear finished",
        True,
        "Live view: clear the lanes of ended or idle sessions (the timeline keeps their rows)",
    ),
    KeyDef(
        "live-monitor",
        "m",
        "toggle_monitor",
        "Monitor",
        True,
        "Live view: the command monitor (every command through the proxy) or the timeline",
    ),
    KeyDef(
        "live-record",
        "r",
        "record",
        "Record",
        True,
        "Live view: start or stop capturing the traffic; at stop, save it as a scenario",
    ),
    KeyDef(
        "close-live-view",
        "escape",
        "close",
        "Back",
        False,
        "Live view: back to the workbench (the proxy keeps running)",
    ),
)

APP_KEYS: tuple[KeyDef, ...] = (
    KeyDef("help", "f1", "help", "Help", True, "All keys"),
    KeyDef("quit", "q", "quit", "Quit", False, "Quit (also ctrl+q)"),
    KeyDef("palette", "ctrl+p", "command_palette", "Commands", False, "Command palette"),
)

ALL_KEYS = (
    APP_KEYS
    + WORKBENCH_KEYS
    + QUEUE_KEYS
    + TIMELINE_KEYS
    + MONITOR_KEYS
    + MEMBERS_KEYS
    + SERVER_VIEW_KEYS
    + APP_SESSIONS_KEYS
)
KEY_ACTIONS = {d.id: d.action for d in ALL_KEYS}  # what a key id does (the toolbar's labels)


def bindings(defs: tuple[KeyDef, ...]) -> list[object]:
    from textual.binding import Binding

    return [
        Binding(d.key, d.action, d.description, show=d.footer, id=d.id, tooltip=d.help)
        for d in defs
    ]


def display_key(key: str) -> str:
    names = {
        "plus": "+",
        "minus": "-",
        "right_square_bracket": "]",
        "left_square_bracket": "[",
        "greater_than_sign": ">",
        "less_than_sign": "<",
    }
    return ",".join(names.get(k, k) for k in key.split(","))
