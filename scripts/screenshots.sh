#!/usr/bin/env bash
# Screenshots of the real program for the README: runs dimtui in tmux with a
# fresh HOME, drives it with send-keys, and turns `tmux capture-pane -e` into
# PNGs with freeze. Writes screenshots/*.png.
#
#   scripts/screenshots.sh            # needs go, tmux; freeze from PATH,
#                                     # ~/go/bin, or `go run` (module proxy)
set -euo pipefail
cd "$(dirname "$0")/.."

out=screenshots
work=$(mktemp -d)
sock="dimtui-shots-$$"
cols=100
rows=30

tm() { tmux -L "$sock" -f /dev/null "$@"; }
cleanup() {
	tm kill-server 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

if command -v freeze >/dev/null; then
	freeze=(freeze)
elif [ -x "$HOME/go/bin/freeze" ]; then
	freeze=("$HOME/go/bin/freeze")
else
	freeze=(go run github.com/charmbracelet/freeze@v0.2.2)
fi

echo "building dimtui"
go build -o "$work/dimtui" .
mkdir -p "$work/home" "$out"
# A fresh account: nothing but HOME, a user name and a terminal with colours.
run_env="env -i HOME=$work/home USER=alice PATH=/usr/bin:/bin TERM=xterm-256color COLORTERM=truecolor"

# wait_for SESSION TEXT: poll the screen until TEXT shows (10 s at most).
wait_for() {
	local session=$1 text=$2
	for _ in $(seq 1 200); do
		if tm capture-pane -p -t "$session" | grep -qF -- "$text"; then
			return 0
		fi
		sleep 0.05
	done
	echo "timed out waiting for '$text' in $session:" >&2
	tm capture-pane -p -t "$session" >&2
	exit 1
}

# keys SESSION KEY...: send keys (tmux key names), then let the UI draw.
keys() {
	local session=$1
	shift
	tm send-keys -t "$session" "$@"
	sleep 0.15
}

# type_line SESSION TEXT: type literal text, then Enter.
type_line() {
	tm send-keys -t "$1" -l -- "$2"
	tm send-keys -t "$1" Enter
	sleep 0.15
}

# shot SESSION NAME: capture the screen with its colours into NAME.png.
shot() {
	local session=$1 name=$2
	sleep 0.3
	tm capture-pane -e -N -p -t "$session" | awk -f scripts/tmux2freeze.awk >"$work/$name.ans"
	"${freeze[@]}" -l ansi --window --padding 20 --margin 0 --border.radius 8 \
		-o "$out/$name.png" <"$work/$name.ans" >/dev/null
	echo "wrote $out/$name.png"
}

echo "starting the demo (station, echo bot, client)"
tm new-session -d -s alice -x "$cols" -y "$rows" "$run_env $work/dimtui"
wait_for alice "[Success]"
shot alice 01-handshake

# The station's address, from the status bar (9394, or a free port).
url=$(tm capture-pane -p -t alice | grep -oE 'ws://127\.0\.0\.1:[0-9]+' | head -1)

echo "a second user, bob, in another terminal"
tm new-session -d -s bob -x "$cols" -y "$rows" "$run_env $work/dimtui chat --station $url --id bob"
wait_for bob "[Success]"
keys alice C-u
type_line alice "/who"
wait_for alice "bob"
type_line bob "/who"
type_line bob "/to alice"
type_line alice "/to bob"
type_line alice "hi bob, this is DIM through a local station"
wait_for bob "hi bob, this is DIM"
type_line bob "hi alice! read you loud and clear"
wait_for alice "read you loud and clear"
# bob looks elsewhere: the next message is delivered, not read.
type_line bob "/to echo"
type_line alice "this one is delivered but not read yet"
wait_for alice "bob: Message received"
sleep 0.3
# bob leaves: the last message waits at the station.
keys bob C-c
sleep 0.5
type_line alice "and this one waits at the station until bob is back"
wait_for alice "Message cached"
shot alice 02-conversation

echo "application content"
type_line alice "/to echo"
keys alice C-x
tm send-keys -t alice -l "chat.dim.sechat"
keys alice Tab
tm send-keys -t alice -l "drift_bottle"
keys alice Tab
tm send-keys -t alice -l "throw"
keys alice Tab
tm send-keys -t alice -l '{"bottle": "a message in a bottle", "depth": }'
wait_for alice "column"
shot alice 03-app-form
keys alice BSpace BSpace
tm send-keys -t alice -l '42}'
wait_for alice "JSON object, 2 fields"
keys alice Enter
wait_for alice "customized 0xCC"
shot alice 04-app-card

echo "the inspector"
type_line alice "hello, inspector"
wait_for alice "echo: hello, inspector"
keys alice C-o
keys alice z
# Walk back from the newest frame to the echo bot's text.
found=""
for _ in $(seq 1 40); do
	if tm capture-pane -p -t alice | grep -q "← in text,"; then
		found=yes
		break
	fi
	keys alice Up
done
if [ -z "$found" ]; then
	echo "no incoming text frame found in the inspector" >&2
	tm capture-pane -p -t alice >&2
	exit 1
fi
shot alice 05-inspector

keys alice C-c
echo "done"
