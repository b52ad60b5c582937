package usage

import "bytes"

// line handles one SSE line (ok is false for a dropped overlong one).
func (m *Meter) line(line []byte, ok bool) {
	switch {
	case !ok:
		m.broken = true
	case len(line) == 0:
		m.dispatch()
	case line[0] == ':': // a comment, often a keep-alive
	default:
		m.field(line)
	}
}

func (m *Meter) field(line []byte) {
	name, value, _ := bytes.Cut(line, []byte(":"))
	if len(value) > 0 && value[0] == ' ' {
		value = value[1:]
	}
	switch string(name) {
	case "data":
		m.addData(value)
	case "event":
		m.event = append(m.event[:0], value...)
	}
}

func (m *Meter) addData(value []byte) {
	if m.broken {
		return
	}
	if len(m.data)+len(value)+1 > maxEvent {
		m.broken = true
		return
	}
	m.data = append(m.data, value...)
	m.data = append(m.data, '\n')
}

// dispatch handles the event assembled so far and starts the next one.
func (m *Meter) dispatch() {
	if !m.broken && len(m.data) > 0 {
		m.observe(m.event, m.data[:len(m.data)-1])
	}
	m.event, m.data, m.broken = m.event[:0], m.data[:0], false
	if cap(m.data) > keepCap {
		m.data = nil
	}
}

func (m *Meter) observe(event, data []byte) {
	switch m.format {
	case Anthropic:
		m.observeAnthropic(event, data)
	case Gemini:
		m.observeGemini(data)
	default:
		m.observeOpenAI(data)
	}
}
