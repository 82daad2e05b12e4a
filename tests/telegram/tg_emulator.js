// Launcher for the npm package `telegram-test-api` (4.2.x), with fixes so that
// python-telegram-bot v22 can talk to it.  The package itself is NOT in this folder:
// install it with `npm install telegram-test-api@4.2.1` and run this file with NODE_PATH pointing at its node_modules.
//
//   NODE_PATH=<folder with node_modules containing telegram-test-api@4.2.1> node tg_emulator.js --port 9111
//
// Options (or env):  --port N (TG_PORT, 9111)   --host H (TG_HOST, 127.0.0.1)
//                    --store-timeout SECONDS (TG_STORE_TIMEOUT, 3600)
//                    --vanilla   start the package untouched (to see the raw incompatibilities)
//                    --strict    unknown Bot API methods answer 400 instead of a permissive "ok"
//
// Bot side:   base URL  http://HOST:PORT/bot   (PTB: ApplicationBuilder().base_url(that))
// Test side:  POST http://HOST:PORT/<route> with a JSON body, see tgclient.py:
//   package routes: /sendMessage /sendCommand /sendCallback /getUpdates /getUpdatesHistory
//   added here:     /getBotCalls /getCallbackAnswers /reset
//
// Copied verbatim from the Telegram Bot API stand-in (launcher + tgclient.py) so that the
// project's tests do not depend on that folder at run time; started by tests/telegram/emulator.py.

'use strict';

const assert = require('assert');
const TelegramServer = require('telegram-test-api');
const { routes } = require('telegram-test-api/lib/routes/index');

function arg(name, envName, dflt) {
  const i = process.argv.indexOf(name);
  if (i !== -1 && process.argv[i + 1] !== undefined) return process.argv[i + 1];
  return process.env[envName] || dflt;
}

const PORT = Number(arg('--port', 'TG_PORT', '9111'));
const HOST = arg('--host', 'TG_HOST', '127.0.0.1');
const STORE_TIMEOUT = Number(arg('--store-timeout', 'TG_STORE_TIMEOUT', '3600'));
const VANILLA = process.argv.includes('--vanilla');
const STRICT = process.argv.includes('--strict') || process.env.TG_STRICT === '1';
const BOT_USER = {
  id: Number(process.env.TG_BOT_ID || 666),
  is_bot: true,
  first_name: process.env.TG_BOT_NAME || 'Test Bot',
  username: process.env.TG_BOT_USERNAME || 'TestNameBot',
  can_join_groups: true,
  can_read_all_group_messages: false,
  supports_inline_queries: false,
};

// Methods the package answers itself (we only reshape a few of their answers).
const PACKAGE_METHODS = new Set(['deleteMessage', 'getUpdates', 'answerCallbackQuery', 'getMe',
  'editMessageText', 'editMessageReplyMarkup', 'sendMessage', 'setWebhook', 'deleteWebhook']);

const nowSec = () => Math.floor(Date.now() / 1000);
let currentServer = null; // set once the server object exists

function installFixes() {
  // 1. Bot messages: the package returns `date` in milliseconds and no `from`.
  const origAddBotMessage = TelegramServer.prototype.addBotMessage;
  TelegramServer.prototype.addBotMessage = function addBotMessage(raw, token) {
    const msg = origAddBotMessage.call(this, raw, token);
    return { ...msg, date: Math.floor(msg.date / 1000), from: BOT_USER };
  };

  // 2. Updates: callback_query needs chat_instance; drop the internal botToken field.
  const origFormat = TelegramServer.formatUpdate;
  TelegramServer.formatUpdate = function formatUpdate(update) {
    const out = origFormat(update);
    if (out.callback_query) {
      const cq = update.callbackQuery;
      const msg = { ...(cq.message || {}) };
      delete msg.botToken;
      if (msg.message_id === undefined) {
        // the package's own client (makeCallbackQuery) sends no message_id/date: use the
        // latest bot message of that chat, which is what the button most likely sat on
        const chatId = String((msg.chat && msg.chat.id) || '');
        const last = currentServer && currentServer.storage.botMessages
          .filter((u) => u.botToken === update.botToken && String(u.message.chat_id) === chatId).pop();
        if (last) {
          msg.message_id = last.messageId;
          msg.text = last.message.text;
          if (last.message.reply_markup) msg.reply_markup = last.message.reply_markup;
        } else msg.message_id = 0;
      }
      if (msg.date === undefined) msg.date = nowSec();
      out.callback_query = {
        ...out.callback_query,
        message: msg,
        chat_instance: String(cq.chat_instance || (msg.chat && msg.chat.id) || '1'),
      };
    } else if (out.message) {
      delete out.message.botToken;
    }
    return out;
  };

  // 3. Webhook delivery: send the secret_token header PTB checks, and never crash the
  //    process when the bot's webhook answers an error (the package lets axios reject
  //    inside a route that nobody awaits -> unhandled rejection -> node exits).
  TelegramServer.prototype.addUserUpdate = async function addUserUpdate(update) {
    assert.ok(update.botToken, 'update needs a botToken field');
    const hook = this.webhooks[update.botToken];
    const id = this.updateId;
    this.updateId += 1;
    if (!hook) {
      this.storage.userMessages.push({ ...update, updateId: id });
      return;
    }
    const headers = { 'content-type': 'application/json' };
    if (hook.secret_token) headers['X-Telegram-Bot-Api-Secret-Token'] = hook.secret_token;
    const body = JSON.stringify(TelegramServer.formatUpdate({ ...update, updateId: id }));
    const resp = await fetch(hook.url, { method: 'POST', headers, body });
    if (!resp.ok) throw new Error(`webhook ${hook.url} answered HTTP ${resp.status}`);
  };

  routes.unshift((app, server) => {
    currentServer = server;
    server.botCalls = [];
    server.callbackAnswers = [];
    server.files = {};

    // Log every Bot API call (multipart bodies are logged by their own route).
    app.all('/bot:token/:method', (req, res, next) => {
      if (!/multipart\/form-data/.test(req.headers['content-type'] || '')) {
        server.botCalls.push({ time: Date.now(), token: req.params.token,
          method: req.params.method, params: { ...req.query, ...req.body } });
      }
      next();
    });

    app.all('/bot:token/getMe', (req, res) => res.json({ ok: true, result: BOT_USER }));

    // Long polling: honour `timeout` (capped) instead of answering [] at once.
    app.all('/bot:token/getUpdates', (req, res) => {
      const { token } = req.params;
      const p = { ...req.query, ...req.body };
      const deadline = Date.now() + Math.min(Number(p.timeout || 0), 25) * 1000;
      let closed = false;
      res.on('close', () => { closed = true; });
      const poll = () => {
        if (closed) return;
        const pending = server.storage.userMessages.some((u) => u.botToken === token && !u.isRead);
        if (pending || Date.now() >= deadline) {
          res.json({ ok: true, result: server.getUpdates(token) });
        } else {
          setTimeout(poll, 50);
        }
      };
      poll();
    });

    const editRoute = (method) => app.all(`/bot:token/${method}`, (req, res) => {
      server[method](req.body);
      const rec = server.storage.botMessages.find((u) => String(u.messageId) === String(req.body.message_id)
        && String(u.message.chat_id) === String(req.body.chat_id));
      if (!rec) {
        res.status(400).json({ ok: false, error_code: 400, description: 'Bad Request: message to edit not found' });
        return;
      }
      res.json({ ok: true,
        result: { ...rec.message, message_id: rec.messageId, date: Math.floor(rec.time / 1000),
          edit_date: nowSec(), from: BOT_USER,
          chat: { id: Number(rec.message.chat_id), type: 'private', first_name: 'User' } } });
    });
    editRoute('editMessageText');
    editRoute('editMessageReplyMarkup');

    app.all('/bot:token/answerCallbackQuery', (req, res) => {
      server.callbackAnswers.push({ token: req.params.token, time: Date.now(), ...req.body });
      res.json({ ok: true, result: true });
    });

    app.all('/bot:token/setWebhook', (req, res) => {
      const hook = req.body.url ? req.body : req.query;
      if (!hook.url) { res.status(400).json({ ok: false, error_code: 400, description: 'Bad Request: url is empty' }); return; }
      server.setWebhook(hook, req.params.token);
      res.json({ ok: true, result: true, description: 'Webhook was set' });
    });
    app.all('/bot:token/getWebhookInfo', (req, res) => {
      const hook = server.webhooks[req.params.token];
      res.json({ ok: true, result: { url: hook ? hook.url : '', has_custom_certificate: false, pending_update_count: 0 } });
    });

    // sendDocument & friends: multipart upload (PTB uses it for InputFile); keep the bytes.
    app.all('/bot:token/:method(sendDocument|sendPhoto|sendAudio|sendVideo|sendVoice|sendAnimation)', async (req, res) => {
      const { token, method } = req.params;
      const kind = method.slice(4).toLowerCase();
      let params = { ...req.query, ...req.body };
      let upload = null;
      if (/multipart\/form-data/.test(req.headers['content-type'] || '')) {
        const chunks = [];
        for await (const c of req) chunks.push(c);
        const fd = await new Request('http://local/', { method: 'POST', headers: { 'content-type': req.headers['content-type'] }, body: Buffer.concat(chunks) }).formData();
        params = {};
        for (const [k, v] of fd.entries()) {
          if (typeof v === 'string') params[k] = v;
          else upload = { field: k, file_name: v.name, mime_type: v.type, data: Buffer.from(await v.arrayBuffer()) };
        }
      }
      server.botCalls.push({ time: Date.now(), token, method, params,
        file: upload && { field: upload.field, file_name: upload.file_name, mime_type: upload.mime_type, size: upload.data.length } });
      const fileId = `file${Object.keys(server.files).length + 1}`;
      const meta = upload
        ? { file_id: fileId, file_unique_id: fileId, file_name: upload.file_name, mime_type: upload.mime_type, file_size: upload.data.length }
        : { file_id: String(params[kind]), file_unique_id: String(params[kind]) };
      if (upload) server.files[fileId] = { ...meta, content_base64: upload.data.toString('base64') };
      const raw = { chat_id: params.chat_id, caption: params.caption, reply_markup: params.reply_markup };
      raw[kind === 'photo' ? 'photo' : kind] = kind === 'photo' ? [{ ...meta, width: 1, height: 1 }] : meta;
      const msg = server.addBotMessage(raw, token);
      const rec = server.storage.botMessages[server.storage.botMessages.length - 1];
      if (upload) rec.attachment = server.files[fileId];
      res.json({ ok: true, result: msg });
    });

    // Anything else (setMyCommands, sendChatAction, ...): record it and say ok.
    app.all('/bot:token/:method', (req, res, next) => {
      if (PACKAGE_METHODS.has(req.params.method)) { next(); return; }
      if (STRICT) {
        res.status(400).json({ ok: false, error_code: 400, description: `Bad Request: method ${req.params.method} is not emulated` });
        return;
      }
      res.json({ ok: true, result: true });
    });

    // ---- test-side helpers ----
    const clientAwait = (path, fn) => app.post(path, async (req, res) => {
      try { await fn.call(server, req.body); res.json({ ok: true, result: null }); } catch (e) {
        res.status(502).json({ ok: false, description: String(e && e.message || e) });
      }
    });
    clientAwait('/sendMessage', server.addUserMessage);
    clientAwait('/sendCommand', server.addUserCommand);
    clientAwait('/sendCallback', server.addUserCallback);
    app.post('/getBotCalls', (req, res) => res.json({ ok: true,
      result: server.botCalls.filter((c) => !req.body.token || c.token === req.body.token) }));
    app.post('/getCallbackAnswers', (req, res) => res.json({ ok: true,
      result: server.callbackAnswers.filter((c) => !req.body.token || c.token === req.body.token) }));
    app.post('/reset', (req, res) => {
      server.storage.userMessages = []; server.storage.botMessages = [];
      server.botCalls.length = 0; server.callbackAnswers.length = 0; server.webhooks = {};
      res.json({ ok: true, result: true });
    });
  });
}

(async () => {
  if (!VANILLA) installFixes();
  const server = new TelegramServer({ port: PORT, host: HOST, storeTimeout: STORE_TIMEOUT });
  await server.start();
  console.log(`telegram-test-api ${VANILLA ? '(vanilla)' : '(patched)'} listening on ${server.config.apiURL}; bot base_url = ${server.config.apiURL}/bot`);
  const stop = async () => { await server.stop(); process.exit(0); };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
})().catch((e) => { console.error(e); process.exit(1); });
