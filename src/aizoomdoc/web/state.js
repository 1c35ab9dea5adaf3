// The one state object of the web UI, shared by its views (chat list, open chat, documents,
// live progress), with small setters for what several views change. The server (the store)
// holds the history; this is only what is on screen now.

export const state = {
  status: null,
  tab: "false",
  filter: "",
  chats: [],
  chatId: null,
  chat: null,
  messages: [],
  documents: [],
  source: null,
  lastEventId: 0,
  live: new Map(), // question_id -> live bubble
};

export function setStatus(status) {
  state.status = status;
}

export function setChats(chats) {
  state.chats = chats;
}

export function setChatId(chatId) {
  state.chatId = chatId;
}

export function setChat(chat) {
  state.chat = chat;
}

export function setDocumentList(documents) {
  state.documents = documents;
}

// What the server said about the open chat: its record, its history and where its events are.
export function setChatData(data) {
  state.chat = data.chat;
  state.messages = data.messages;
  state.lastEventId = data.last_event_id;
}

export function docTitle(id) {
  const d = state.documents.find((x) => x.id === id);
  return d ? (d.title || d.filename) : id.slice(0, 8);
}
