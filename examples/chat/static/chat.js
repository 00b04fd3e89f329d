// The chat page: joins one room over the chat.v1 subprotocol, shows its
// messages and members, and reconnects (with backoff) when the server goes.
"use strict";

const params = new URLSearchParams(location.search);
const room = params.get("room") || "lobby";
const name = params.get("name") || "guest-" + Math.random().toString(36).slice(2, 7);

const messages = document.getElementById("messages");
const members = document.getElementById("members");
const input = document.getElementById("text");
const status = document.getElementById("status");

document.getElementById("room").textContent = "#" + room + " as " + name;
document.title = "#" + room + " — chat";

let socket = null;
let delay = 500; // ms before the next reconnection attempt; doubles to 10 s

function setState(state, text) {
  document.body.dataset.state = state;
  status.textContent = text;
  input.disabled = state !== "open";
  if (state === "open") input.focus();
}

function show(message) {
  const item = document.createElement("li");
  const time = document.createElement("time");
  const from = document.createElement("span");
  const text = document.createElement("span");
  time.textContent = new Date(message.ts).toLocaleTimeString();
  from.className = "from";
  from.textContent = message.from;
  text.className = "text";
  text.textContent = message.text;
  item.append(time, from, text);
  const atBottom = messages.scrollHeight - messages.scrollTop - messages.clientHeight < 40;
  messages.append(item);
  if (atBottom) messages.scrollTop = messages.scrollHeight;
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss://" : "ws://";
  socket = new WebSocket(scheme + location.host + "/ws", "chat.v1");
  socket.onopen = () => {
    delay = 500;
    setState("open", "connected");
    socket.send(JSON.stringify({ type: "join", room, name }));
  };
  socket.onmessage = (event) => {
    const message = JSON.parse(event.data);
    if (message.room !== undefined && message.room !== room) return;
    switch (message.type) {
      case "message":
        show(message);
        break;
      case "history":
        // A rejoin after a reconnection starts over from the history.
        messages.replaceChildren();
        message.messages.forEach(show);
        break;
      case "presence":
        members.replaceChildren(...message.members.map((member) => {
          const item = document.createElement("li");
          item.textContent = member;
          return item;
        }));
        break;
      case "error":
        status.textContent = "server: " + message.reason;
        break;
    }
  };
  socket.onclose = (event) => {
    const wait = delay + Math.random() * delay / 2;
    delay = Math.min(delay * 2, 10000);
    setState("closed", "disconnected (" + event.code + "), retrying in " + Math.round(wait / 1000) + " s");
    setTimeout(connect, wait);
  };
}

input.addEventListener("keydown", (event) => {
  if (event.key !== "Enter" || !input.value || !socket || socket.readyState !== WebSocket.OPEN) return;
  socket.send(JSON.stringify({ type: "say", room, text: input.value }));
  input.value = "";
});

connect();
