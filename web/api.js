// Talking to the dashboard's server: the live stream of snapshots and the
// controls, both with the token in a header (never in a URL).

const TOKEN_KEY = "fanout-dashboard-token";

export function token() {
  return sessionStorage.getItem(TOKEN_KEY) ?? "";
}

export function setToken(value) {
  if (value) sessionStorage.setItem(TOKEN_KEY, value);
  else sessionStorage.removeItem(TOKEN_KEY);
}

/**
 * Server-sent events read through fetch (an EventSource cannot send a
 * header): calls `onSnapshot` with each snapshot, and `onState` with
 * "live", "reconnecting" or an error; reconnects after a second.
 */
export async function follow(onSnapshot, onState) {
  for (;;) {
    try {
      const res = await fetch("/api/live", { headers: { "x-fanout-token": token() } });
      if (!res.ok) {
        onState(`refused (${res.status}): ${(await res.json()).error ?? ""}`);
      } else {
        onState("live");
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value;
          let end;
          while ((end = buffer.indexOf("\n\n")) >= 0) {
            const frame = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const data = frame.split("\n").filter((l) => l.startsWith("data: ")).map((l) => l.slice(6)).join("\n");
            if (data) onSnapshot(JSON.parse(data));
          }
        }
        onState("reconnecting");
      }
    } catch {
      onState("reconnecting");
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** One control: POST JSON with the token. Resolves with the answer, or throws its error. */
export async function act(path, body = {}) {
  const res = await fetch(path, { method: "POST", headers: { "content-type": "application/json", "x-fanout-token": token() }, body: JSON.stringify(body) });
  const answer = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(answer.error ?? `refused (${res.status})`);
  return answer;
}

export async function task(job, id) {
  const res = await fetch(`/api/task?job=${encodeURIComponent(job)}&id=${encodeURIComponent(id)}`, { headers: { "x-fanout-token": token() } });
  const answer = await res.json();
  if (!res.ok) throw new Error(answer.error ?? `refused (${res.status})`);
  return answer;
}
