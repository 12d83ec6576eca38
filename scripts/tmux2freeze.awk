# Rewrites tmux's capture-pane -e output for freeze: every SGR sequence
# becomes the whole state (reset, attributes, colours), and each line
# starts with the state in force, since freeze starts lines afresh and
# reads neither "default colour" (39, 49) nor reverse video (7). With
# -v width=COLUMNS, lines are filled to the pane's width (see below).
BEGIN { esc = sprintf("%c", 27); re = esc "\\[[0-9;:]*m" }
function apply(params,    n, p, i, c) {
	n = split(params, p, /[;:]/)
	if (n == 0) { reset(); return }
	for (i = 1; i <= n; i++) {
		c = p[i] + 0
		if (p[i] == "" || c == 0) reset()
		else if (c == 1) bold = 1
		else if (c == 2) faint = 1
		else if (c == 3) italic = 1
		else if (c == 4) under = 1
		else if (c == 7) rev = 1
		else if (c == 9) strike = 1
		else if (c == 22) { bold = 0; faint = 0 }
		else if (c == 23) italic = 0
		else if (c == 24) under = 0
		else if (c == 27) rev = 0
		else if (c == 29) strike = 0
		else if ((c >= 30 && c <= 37) || (c >= 90 && c <= 97)) fg = c
		else if (c == 39) fg = ""
		else if ((c >= 40 && c <= 47) || (c >= 100 && c <= 107)) bg = c
		else if (c == 49) bg = ""
		else if (c == 38 || c == 48) {
			if (p[i+1] == 5) { col = c ";5;" p[i+2]; i += 2 }
			else if (p[i+1] == 2) { col = c ";2;" p[i+2] ";" p[i+3] ";" p[i+4]; i += 4 }
			else continue
			if (c == 38) fg = col; else bg = col
		}
	}
}
function reset() { bold = faint = italic = under = rev = strike = 0; fg = bg = "" }
function state(    s, f, b) {
	s = "0"
	if (bold) s = s ";1"
	if (faint) s = s ";2"
	if (italic) s = s ";3"
	if (under) s = s ";4"
	if (strike) s = s ";9"
	f = fg; b = bg
	if (rev) {
		# Swap, standing in for the terminal's default colours.
		f = (bg == "") ? "38;2;23;23;23" : swap(bg)
		b = (fg == "") ? "48;2;220;220;220" : swap(fg)
	}
	if (f != "") s = s ";" f
	if (b != "") s = s ";" b
	return esc "[" s "m"
}
# swap turns a foreground code into the background one and back.
function swap(c) {
	if (c ~ /^38;/) return "48;" substr(c, 4)
	if (c ~ /^48;/) return "38;" substr(c, 4)
	c = c + 0
	if (c >= 30 && c <= 37) return c + 10
	if (c >= 40 && c <= 47) return c - 10
	if (c >= 90 && c <= 97) return c + 10
	if (c >= 100 && c <= 107) return c - 10
	return c
}
{
	line = $0
	out = state()
	firstbg = "unset"
	while (match(line, re)) {
		if (RSTART > 1 && firstbg == "unset") firstbg = bg
		out = out substr(line, 1, RSTART - 1)
		apply(substr(line, RSTART + 2, RLENGTH - 3))
		out = out state()
		line = substr(line, RSTART + RLENGTH)
	}
	if (line != "" && firstbg == "unset") firstbg = bg
	out = out line
	# tmux leaves out the cells a line ends with when they were cleared
	# (erase to end of line) rather than written, even when they were
	# cleared to a background colour: put them back in the background in
	# force, so a painted screen is painted to its edge. Only a line that
	# starts on that background is painted: one that ends on a coloured
	# cell of a picture (a thumbnail) was cleared to the default after it.
	if (width > 0 && bg != "" && bg == firstbg) {
		plain = out
		gsub(re, "", plain)
		gsub(/[\200-\277]/, "", plain)
		for (n = length(plain); n < width; n++) out = out " "
	}
	print out
}
