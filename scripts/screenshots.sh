#!/usr/bin/env bash
# Screenshots of the real program for the README: runs dimtui in tmux with a
# fresh HOME, drives it with send-keys, and turns `tmux capture-pane -e` into
# PNGs with freeze. Writes screenshots/*.png.
#
#   scripts/screenshots.sh            # needs go, tmux; freeze from PATH,
#                                     # ~/go/bin, or `go run` (module proxy)
#   scripts/screenshots.sh client     # only the client's (01-05)
#   scripts/screenshots.sh workshop   # only workshop mode's (06-10)
#   scripts/screenshots.sh groups     # only the group's (11)
#   scripts/screenshots.sh network    # only the network of stations' (10-network)
#   scripts/screenshots.sh contents   # only the contents' (11-contents)
#   scripts/screenshots.sh history    # only the restored history's (12-history, 12-history-group)
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
	tm capture-pane -e -N -p -t "$session" |
		awk -v width="$(tm display-message -p -t "$session" '#{pane_width}')" -f scripts/tmux2freeze.awk >"$work/$name.ans"
	"${freeze[@]}" -l ansi --window --padding 20 --margin 0 --border.radius 8 \
		-o "$out/$name.png" <"$work/$name.ans" >/dev/null
	echo "wrote $out/$name.png"
}

# wait_count SESSION TEXT N: poll until TEXT shows N times (10 s at most).
wait_count() {
	local session=$1 text=$2 n=$3
	for _ in $(seq 1 200); do
		if [ "$(tm capture-pane -p -t "$session" | grep -oF -- "$text" | wc -l)" -ge "$n" ]; then
			return 0
		fi
		sleep 0.05
	done
	echo "timed out waiting for $n × '$text' in $session:" >&2
	tm capture-pane -p -t "$session" >&2
	exit 1
}

which=${1:-all}

client_shots() {
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
}

workshop_shots() {
	local demo="$work/dimtui demo --users alice,bob --fresh --listen 127.0.0.1:0"

	echo "workshop: alice and bob side by side, and a message the station loses"
	tm new-session -d -s split -x 200 -y 42 "$run_env $demo"
	wait_count split "[Success]" 2
	type_line split "hi bob, this is alice on the left"
	wait_count split "hi bob, this is alice on the left" 2
	keys split F6
	type_line split "hi alice! bob here, on the right"
	wait_count split "hi alice! bob here, on the right" 2
	keys split F6
	# The station loses alice's next message: no receipt, the tick stays ○.
	type_line split "/drop"
	type_line split "this one is lost on the way"
	wait_for split "dropped alice's message"
	sleep 0.5
	# It forgets her session: DIM? again, a new handshake, and the resend.
	type_line split "/expire"
	wait_for split "resent"
	wait_for split "station: Message delivered. — “this one"
	wait_count split "this one is lost on the way" 2
	sleep 0.5
	shot split 06-split
	keys split C-c

	echo "workshop: step-through"
	tm new-session -d -s step -x 160 -y 45 "$run_env $demo --step"
	wait_for step "held: not written yet"
	for _ in 1 2 3 4; do
		if tm capture-pane -p -t step | grep -qF "held: not processed yet"; then
			break
		fi
		keys step Enter
		sleep 0.3
	done
	wait_for step "held: not processed yet"
	shot step 07-step-through
	keys step C-c

	echo "workshop: presenter theme"
	tm new-session -d -s pres -x 120 -y 34 "$run_env $work/dimtui demo --users alice --fresh --listen 127.0.0.1:0 --presenter"
	wait_for pres "[Success]"
	type_line pres "readable from the back of the room"
	wait_for pres "echo: readable from the back of the room"
	shot pres 08-presenter
	keys pres C-c

	echo "workshop: the projector layout, stepping by lesson"
	tm new-session -d -s proj -x 100 -y 30 "$run_env $demo --step --presenter"
	wait_for proj "held: not written yet"
	# f9 runs to the next stop; four of them open both sessions.
	for _ in $(seq 1 12); do
		if [ "$(tm capture-pane -p -t proj | grep -oF "[Success]" | wc -l)" -ge 2 ]; then
			break
		fi
		keys proj F9
		sleep 0.4
	done
	wait_count proj "[Success]" 2
	type_line proj "can the back row read this?"
	wait_for proj "chat message · held: not written yet"
	keys proj F9
	wait_for proj "chat message · held: not processed yet"
	shot proj 09-projector
	# f5: the panel alone, full screen, scrollable.
	keys proj F5
	wait_for proj "f5/esc back to the panes"
	shot proj 10-panel-full
	keys proj C-c
}

group_shots() {
	echo "groups: alice, bob and carol in a group alice made, the echo bot invited"
	tm new-session -d -s crew -x 210 -y 34 "$run_env $work/dimtui demo --users alice,bob,carol --group crew --fresh --listen 127.0.0.1:0"
	wait_for crew "I created the group crew"
	type_line crew "/invite echo"
	wait_for crew "I added Echo bot"
	type_line crew "hello crew, echo is with us"
	wait_count crew "echo: hello crew, echo is with us" 1
	keys crew F6
	type_line crew "/to crew"
	wait_count crew "echo: hello crew, echo is with us" 2
	type_line crew "hi all, bob here"
	wait_count crew "hi all, bob here" 2
	keys crew F6
	type_line crew "/to crew"
	wait_count crew "hi all, bob here" 3
	type_line crew "/members"
	wait_for crew "crew: 4 members"
	keys crew F6
	sleep 1
	shot crew 11-groups
	keys crew C-c
}

network_shots() {
	echo "network: alice at station A, bob at station B, the link cut and healed"
	tm new-session -d -s net -x 200 -y 38 "$run_env $work/dimtui demo --stations 2 --users alice,bob --fresh --listen 127.0.0.1:0"
	wait_count net "[Success]" 2
	wait_count net "linked to station" 4
	type_line net "hi bob, from station A"
	wait_count net "hi bob, from station A" 2
	keys net F6
	type_line net "hi alice, station B here"
	wait_count net "hi alice, station B here" 2
	keys net F6
	type_line net "/partition"
	wait_for net "link to station B down"
	type_line net "sent while the link is cut"
	wait_for net "Message cached. — “sent while the"
	type_line net "/status"
	wait_for net "no link there now"
	type_line net "/heal"
	wait_count net "sent while the link is cut" 2
	wait_for net "Message redirected. — “sent while"
	sleep 1
	shot net 10-network
	keys net C-c
}

contents_shots() {
	echo "contents: a reply, a page, a name card, a picture and a file between alice and bob"
	printf 'Minutes of the DIM workshop\n- keys stay on the device\n' >"$work/minutes.txt"
	tm new-session -d -s cont -x 200 -y 44 "$run_env $work/dimtui demo --users alice,bob --fresh --listen 127.0.0.1:0"
	wait_count cont "[Success]" 2
	type_line cont "shall we meet at the harbour at noon?"
	wait_count cont "shall we meet at the harbour at noon?" 2
	keys cont F6
	type_line cont "/reply yes, at noon: here is the view"
	wait_count cont "yes, at noon: here is the view" 2
	type_line cont "/send scripts/sunset.png"
	wait_count cont "[image] sunset.png" 2
	type_line cont "/page https://dim.chat/ DIM: decentralized instant messaging"
	wait_count cont "[page] DIM: decentralized" 2
	type_line cont "/card alice"
	wait_count cont "[name card] alice" 2
	type_line cont "/send $work/minutes.txt"
	wait_count cont "[file] minutes.txt" 2
	keys cont F6
	sleep 1
	shot cont 11-contents
	keys cont C-c
}

history_shots() {
	echo "history: alice talks with bob, quits, and starts again on the same data directory"
	tm new-session -d -s hstation -x "$cols" -y "$rows" \
		"$run_env $work/dimtui station --data $work/hist/station --listen 127.0.0.1:0 2>$work/hist-station.log"
	local url=""
	for _ in $(seq 1 200); do
		url=$(grep -oE 'ws://127\.0\.0\.1:[0-9]+/' "$work/hist-station.log" 2>/dev/null | head -1 || true)
		[ -n "$url" ] && break
		sleep 0.05
	done
	if [ -z "$url" ]; then
		echo "the station did not start:" >&2
		cat "$work/hist-station.log" >&2
		exit 1
	fi
	local alice="$run_env $work/dimtui chat --data $work/hist/alice --id alice --station $url"
	tm new-session -d -s halice -x "$cols" -y "$rows" "$alice"
	wait_for halice "[Success]"
	tm new-session -d -s hbob -x "$cols" -y "$rows" "$run_env $work/dimtui chat --data $work/hist/bob --id bob --station $url"
	wait_for hbob "[Success]"
	type_line halice "/to bob"
	wait_for halice "to bob@"
	type_line halice "hi bob, are you around?"
	wait_for hbob "alice"
	type_line hbob "/to alice"
	wait_for halice "bob: Message read. — “hi bob, are you"
	type_line hbob "yes! just got in"
	wait_for halice "yes! just got in"
	type_line halice "did the station keep my messages while you were away?"
	wait_for hbob "while you were away?"
	type_line hbob "all of them, in order"
	wait_for halice "all of them, in order"
	# bob names himself: alice's contacts and chat lines follow his new visa.
	type_line hbob "/nick Bob Builder"
	wait_for halice "calls themself “Bob Builder”"
	type_line hbob "new name, same bob"
	wait_for halice "new name, same bob"
	type_line halice "suits you. lunch at the harbour tomorrow?"
	wait_for hbob "lunch at the harbour tomorrow?"
	type_line hbob "can we fix it? yes we can. noon works"
	wait_for halice "noon works"
	type_line halice "I'll book a table by the window"
	wait_for hbob "by the window"
	type_line hbob "perfect"
	wait_for halice "perfect"
	# bob writes to everyone: alice gets it in a conversation of its own.
	type_line hbob "/to everyone@everywhere"
	wait_for hbob "a broadcast"
	type_line hbob "station meetup at noon, everyone welcome"
	wait_for halice "everyone"
	# bob looks at the broadcast: alice's last message is received, not read.
	type_line halice "see you there, I'll bring the minutes"
	wait_for halice "Message received. — “see you there"
	# alice makes a group with bob; they each write in it before she quits.
	type_line halice "/group new harbour bob"
	wait_for halice "I created the group harbour"
	wait_for hbob "# harbour"
	type_line hbob "/to harbour"
	wait_for hbob "to # harbour"
	type_line halice "a group for the harbour lunch: table by the window, noon"
	wait_for hbob "a group for the harbour lunch"
	type_line hbob "great, I'll bring the hard hat"
	wait_for halice "I'll bring the hard hat"
	type_line halice "ha, see you both there then"
	wait_for hbob "see you both there then"
	type_line hbob "the group will remember this"
	wait_for halice "the group will remember this"
	sleep 0.5
	keys halice C-c
	for _ in $(seq 1 200); do
		tm has-session -t halice 2>/dev/null || break
		sleep 0.05
	done
	if tm has-session -t halice 2>/dev/null; then
		echo "alice's dimtui did not quit" >&2
		exit 1
	fi

	echo "history: alice again, the conversation restored from alice.history.db"
	tm new-session -d -s halice -x "$cols" -y "$rows" "$alice"
	wait_for halice "[Success]"
	wait_for halice "Bob Builder"
	wait_for halice "everyone"
	type_line halice "/to bob"
	wait_for halice "see you there, I'll bring the minutes"
	sleep 1
	shot halice 12-history

	echo "history: alice's group restored, its members known without a new reset"
	type_line halice "/to harbour"
	wait_for halice "the group will remember this"
	type_line halice "/members"
	wait_for halice "harbour: 2 members"
	sleep 1
	shot halice 12-history-group
	keys halice C-c
	keys hbob C-c
	keys hstation C-c
}

case $which in
all) client_shots; workshop_shots; group_shots; network_shots; contents_shots; history_shots ;;
contents) contents_shots ;;
history) history_shots ;;
client) client_shots ;;
workshop) workshop_shots ;;
groups) group_shots ;;
network) network_shots ;;
*) echo "usage: $0 [all|client|workshop|groups|network|contents|history]" >&2; exit 2 ;;
esac
echo "done"
