#!/usr/bin/env node
// Writes n8n/episode-generation.json, the workflow n8n runs to generate an episode (docs/n8n.md).
// The Code nodes' JavaScript lives here as plain source, so it can be read and reviewed; run
// `node scripts/build-n8n-workflow.mjs` after changing it (`npm run test:n8n` checks the two agree).
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const WORKFLOW_PATH = path.join(root, "n8n", "episode-generation.json");

export const WORKFLOW_ID = "mfEpisodeGen0001";
export const WEBHOOK_PATH = "episode-generation";
export const CREDENTIAL = { id: "mfLlmCredential1", name: "Many Futures LLM" };

// ——— Code shared by the nodes that sign callbacks ———

/** Standard Webhooks signing, as the app verifies it: HMAC-SHA256 over "id.timestamp.body" with the decoded key. */
const SIGNING = String.raw`
const crypto = require('crypto');

// The secret is an environment variable of the n8n process; it never appears in the workflow.
function signedCallback(message, label) {
  const secret = $env.GENERATION_WEBHOOK_SECRET || '';
  if (!secret.startsWith('whsec_')) throw new Error('GENERATION_WEBHOOK_SECRET is not set in n8n');
  const request = $('Verify signature').first().json.request;
  const body = JSON.stringify(message);
  // One id per report of an attempt: a retried request, or a duplicate execution, is recognised by the app.
  const id = 'n8n_' + request.episodeId + '_' + request.attempt + '_' + label;
  const timestamp = String(Math.floor(Date.now() / 1000));
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
  const signature = crypto.createHmac('sha256', key).update(id + '.' + timestamp + '.' + body).digest('base64');
  return {
    json: {
      callback: {
        url: request.callbackUrl,
        body,
        headers: { 'webhook-id': id, 'webhook-timestamp': timestamp, 'webhook-signature': 'v1,' + signature },
      },
    },
  };
}

function envelope() {
  const request = $('Verify signature').first().json.request;
  return { episodeId: request.episodeId, organizationId: request.organizationId, attempt: request.attempt };
}
`;

/** Helpers the agent nodes share: the request, the model call with its token usage, lenient JSON parsing. */
const AGENT = String.raw`
const request = $('Verify signature').first().json.request;

const clip = (value, max) => String(value ?? '').replace(/\u0000/g, '').slice(0, max);

// Models wrap JSON in prose or code fences now and then: take the outermost object.
function parseObject(text, agent) {
  const start = text.indexOf('{');
  const end = text.lastIndexOf('}');
  if (start === -1 || end <= start) throw new Error('The ' + agent + ' did not answer with JSON.');
  try {
    return JSON.parse(text.slice(start, end + 1));
  } catch (error) {
    throw new Error('The ' + agent + ' answered with JSON that could not be read.');
  }
}

async function callModel(agent, system, human) {
  const llm = await this.getInputConnectionData('ai_languageModel', 0);
  const reply = await llm.invoke([['system', system], ['human', human]]);
  const text = typeof reply.content === 'string'
    ? reply.content
    : (reply.content || []).map((part) => (typeof part === 'string' ? part : part.text || '')).join('');
  const usage = reply.usage_metadata || {};
  const metadata = reply.response_metadata || {};
  return {
    text,
    usage: {
      callId: request.episodeId + ':' + request.attempt + ':' + agent,
      agent,
      model: clip(metadata.model_name || metadata.model || llm.model || llm.modelName || 'unknown', 200),
      promptTokens: usage.input_tokens || 0,
      completionTokens: usage.output_tokens || 0,
    },
  };
}

// The Code sandbox has no URL class: a plain check that the app's schema will accept.
const isHttpUrl = (value) => typeof value === 'string' && value.length <= 2000 && /^https?:\/\/[^\s\/?#]+[^\s]*$/i.test(value);

function describeContext() {
  const notes = (request.planningNotes || []).slice(-10).map((note) => '- ' + clip(note, 1000)).join('\n') || '(none)';
  const recent = (request.recentEpisodes || [])
    .map((episode) => '- ' + clip(episode.title, 300) + (episode.summary ? ': ' + clip(episode.summary, 500) : ''))
    .join('\n') || '(none: this is the first episode)';
  return 'Project brief:\n' + clip(request.brief, 20000) + '\n\nPlanning notes:\n' + notes + '\n\nEarlier episodes:\n' + recent;
}
`;

// ——— The nodes ———

const verifyCode = String.raw`
// The dispatch is signed with Standard Webhooks headers over its raw bytes: check them before anything runs.
const crypto = require('crypto');
const TOLERANCE_SECONDS = 300;

const item = $input.first();
const headers = item.json.headers || {};
const refuse = (reason) => [{ json: { valid: false, reason } }];

const secret = $env.GENERATION_WEBHOOK_SECRET || '';
if (!secret.startsWith('whsec_')) return refuse('GENERATION_WEBHOOK_SECRET is not set in n8n');
const id = headers['webhook-id'];
const timestamp = headers['webhook-timestamp'];
const signatures = headers['webhook-signature'];
if (!id || !timestamp || !signatures) return refuse('missing webhook-id, webhook-timestamp or webhook-signature');
const seconds = Number(timestamp);
if (!Number.isInteger(seconds) || Math.abs(Math.floor(Date.now() / 1000) - seconds) > TOLERANCE_SECONDS) {
  return refuse('timestamp outside the five-minute tolerance');
}
if (!item.binary || !item.binary.data) return refuse('no raw body (the Webhook node needs the Raw Body option)');
const raw = await helpers.getBinaryDataBuffer(0, 'data');
const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
const expected = crypto.createHmac('sha256', key).update(id + '.' + timestamp + '.').update(raw).digest();
const matches = String(signatures).split(' ').some((entry) => {
  const [version, value] = entry.split(',');
  if (version !== 'v1' || !value) return false;
  const given = Buffer.from(value, 'base64');
  return given.length === expected.length && crypto.timingSafeEqual(given, expected);
});
if (!matches) return refuse('signature does not match');

let request;
try {
  request = JSON.parse(raw.toString('utf8'));
} catch (error) {
  return refuse('body is not JSON');
}
for (const field of ['episodeId', 'organizationId', 'attempt', 'brief', 'callbackUrl']) {
  if (request[field] === undefined || request[field] === null) return refuse('request lacks ' + field);
}
return [{ json: { valid: true, webhookId: id, request } }];
`;

const researchStartedCode = `${SIGNING}
return [signedCallback({
  type: 'progress',
  ...envelope(),
  stage: 'research',
  percent: 5,
  message: 'Researching the latest signals',
}, 'research')];
`;

const researchAgentCode = `${AGENT}
const system = [
  'You are the research agent of Many Futures, a strategic foresight service.',
  'Find recent signals of change relevant to the project brief: developments, data, announcements.',
  'Answer with JSON only: {"findings": ["one signal per string"], "sources": [{"title": "...", "url": "https://...", "publisher": "...", "publishedAt": "YYYY-MM-DD"}]}.',
  'List only sources you actually drew on; never invent a URL.',
].join('\\n');
const { text, usage } = await callModel.call(this, 'research', system, describeContext());
const answer = parseObject(text, 'research agent');
const findings = (Array.isArray(answer.findings) ? answer.findings : [])
  .filter((finding) => typeof finding === 'string' && finding.trim())
  .slice(0, 50)
  .map((finding) => clip(finding.trim(), 2000));
const sources = (Array.isArray(answer.sources) ? answer.sources : [])
  .filter((source) => source && typeof source.title === 'string' && source.title.trim() && isHttpUrl(source.url))
  .slice(0, 50)
  .map((source) => ({
    title: clip(source.title.trim(), 500),
    url: clip(source.url, 2000),
    publisher: source.publisher ? clip(source.publisher, 200) : null,
    publishedAt: source.publishedAt ? clip(source.publishedAt, 100) : null,
  }));
if (!findings.length) throw new Error('The research agent found nothing to report.');
// Two outputs: the result, and the error output n8n adds for "continue (using error output)".
return [[{ json: { findings, sources, usage } }], []];
`;

const findingsCode = `${SIGNING}
const research = $('Research agent').first().json;
return [signedCallback({
  type: 'progress',
  ...envelope(),
  stage: 'writing',
  percent: 40,
  message: 'Research found ' + research.findings.length + ' signal' + (research.findings.length === 1 ? '' : 's') + '; writing the episode',
  findings: research.findings,
  sources: research.sources,
}, 'writing')];
`;

const writerAgentCode = `${AGENT}
const research = $('Research agent').first().json;
const system = [
  'You are the writer of Many Futures, a strategic foresight service.',
  'Write this week\\'s episode for the project from the research findings: what changed, why it matters, what could follow.',
  'Use only the findings and sources given; cite sources by title. Markdown, no raw HTML, 600 to 1200 words.',
  'Answer with JSON only: {"title": "...", "summary": "one or two sentences", "content": "markdown"}.',
].join('\\n');
const human = describeContext()
  + '\\n\\nResearch findings:\\n' + research.findings.map((finding) => '- ' + finding).join('\\n')
  + '\\n\\nSources:\\n' + (research.sources.map((source) => '- ' + source.title + ' (' + source.url + ')').join('\\n') || '(none)');
const { text, usage } = await callModel.call(this, 'writer', system, human);
const draft = parseObject(text, 'writer agent');
const title = clip(draft.title, 300).trim();
const summary = clip(draft.summary, 2000).trim();
const content = clip(draft.content, 200000).trim();
if (!title || !summary || !content) throw new Error('The writer agent returned an empty draft.');
return [[{ json: { title, summary, content, usage } }], []];
`;

const reviewStartedCode = `${SIGNING}
return [signedCallback({
  type: 'progress',
  ...envelope(),
  stage: 'review',
  percent: 75,
  message: 'Checking the draft against the research',
}, 'review')];
`;

const qaAgentCode = `${AGENT}
const research = $('Research agent').first().json;
const draft = $('Writer agent').first().json;
const system = [
  'You are the quality reviewer of Many Futures, a strategic foresight service.',
  'Check the draft against the brief and the research: every claim must trace to a finding, no source may be invented,',
  'and the episode must serve the brief. Answer with JSON only: {"passed": true or false, "notes": "what is wrong, or what is good"}.',
].join('\\n');
const human = describeContext()
  + '\\n\\nResearch findings:\\n' + research.findings.map((finding) => '- ' + finding).join('\\n')
  + '\\n\\nSources:\\n' + (research.sources.map((source) => '- ' + source.title + ' (' + source.url + ')').join('\\n') || '(none)')
  + '\\n\\nDraft title: ' + draft.title + '\\nDraft summary: ' + draft.summary + '\\n\\nDraft:\\n' + draft.content;
const { text, usage } = await callModel.call(this, 'qa', system, human);
const verdict = parseObject(text, 'QA agent');
return [[{ json: { passed: verdict.passed === true, notes: clip(verdict.notes, 5000), usage } }], []];
`;

const completedCode = `${SIGNING}
// Cost per call from prices per million tokens in GBP: LLM_PRICES_GBP_PER_MTOK (JSON by model name) first,
// else LLM_PRICE_PROMPT_GBP_PER_MTOK and LLM_PRICE_COMPLETION_GBP_PER_MTOK for every model, else 0.
function pricesFor(model) {
  let table = {};
  try {
    table = JSON.parse($env.LLM_PRICES_GBP_PER_MTOK || '{}');
  } catch (error) {
    table = {};
  }
  const listed = table[model];
  if (listed) return { prompt: Number(listed.prompt) || 0, completion: Number(listed.completion) || 0 };
  return {
    prompt: Number($env.LLM_PRICE_PROMPT_GBP_PER_MTOK) || 0,
    completion: Number($env.LLM_PRICE_COMPLETION_GBP_PER_MTOK) || 0,
  };
}
const costOf = (usage) => {
  const prices = pricesFor(usage.model);
  return Math.round(usage.promptTokens * prices.prompt + usage.completionTokens * prices.completion) / 1e6;
};

const research = $('Research agent').first().json;
const draft = $('Writer agent').first().json;
const qa = $('QA agent').first().json;
return [signedCallback({
  type: 'completed',
  ...envelope(),
  title: draft.title,
  summary: draft.summary,
  content: draft.content,
  // Only what research produced: the writer cannot add a source.
  sources: research.sources,
  qa: { passed: qa.passed, notes: qa.notes },
  tokenUsage: [research.usage, draft.usage, qa.usage].map((usage) => ({ ...usage, costGBP: costOf(usage) })),
}, 'completed')];
`;

const failedCode = `${SIGNING}
// Reached from any agent's error output: the item carries n8n's error message.
const agents = { 'Research agent': 'research agent', 'Writer agent': 'writer agent', 'QA agent': 'QA agent' };
const agent = agents[$prevNode.name] || $prevNode.name;
const error = $input.first().json.error;
const detail = typeof error === 'string' ? error : (error && error.message) || 'an unknown error';
return [signedCallback({
  type: 'failed',
  ...envelope(),
  error: ('The ' + agent + ' failed: ' + detail).slice(0, 2000),
  // Model errors (rate limits, outages, unreadable answers) are usually passing; the app caps the attempts.
  retryable: true,
}, 'failed')];
`;

// ——— Node builders ———

let nextId = 1;
const nodeId = () => `6d1f0c8e-0000-4000-8000-${String(nextId++).padStart(12, "0")}`;

function codeNode(name, position, jsCode) {
  return {
    parameters: { jsCode: jsCode.trim() + "\n" },
    id: nodeId(),
    name,
    type: "n8n-nodes-base.code",
    typeVersion: 2,
    position,
  };
}

function callbackNode(name, position) {
  const header = (headerName) => ({ name: headerName, value: `={{ $json.callback.headers['${headerName}'] }}` });
  return {
    parameters: {
      method: "POST",
      url: "={{ $json.callback.url }}",
      sendHeaders: true,
      specifyHeaders: "keypair",
      headerParameters: { parameters: [header("webhook-id"), header("webhook-timestamp"), header("webhook-signature")] },
      sendBody: true,
      contentType: "raw",
      rawContentType: "application/json",
      body: "={{ $json.callback.body }}",
      options: { timeout: 15000 },
    },
    id: nodeId(),
    name,
    type: "n8n-nodes-base.httpRequest",
    typeVersion: 4.2,
    position,
    // A resend carries the same id, timestamp and signature: the app answers it from its receipt.
    retryOnFail: true,
    maxTries: 3,
    waitBetweenTries: 2000,
  };
}

function agentNode(name, position, jsCode) {
  return {
    parameters: {
      code: { execute: { code: jsCode.trim() + "\n" } },
      inputs: {
        input: [
          { type: "main", maxConnections: 1, required: true },
          { type: "ai_languageModel", maxConnections: 1, required: true },
        ],
      },
      outputs: { output: [{ type: "main" }] },
    },
    id: nodeId(),
    name,
    type: "@n8n/n8n-nodes-langchain.code",
    typeVersion: 1,
    position,
    onError: "continueErrorOutput",
  };
}

function modelNode(name, position) {
  return {
    parameters: {
      model: { __rl: true, mode: "id", value: "={{ $env.LLM_MODEL || 'gpt-4o-mini' }}" },
      // Chat completions, which every OpenAI-compatible server speaks (the Responses API is OpenAI's alone).
      responsesApiEnabled: false,
      options: {
        timeout: 120000,
        maxRetries: "={{ Number($env.LLM_MAX_RETRIES || 2) }}",
      },
    },
    id: nodeId(),
    name,
    type: "@n8n/n8n-nodes-langchain.lmChatOpenAi",
    typeVersion: 1.3,
    position,
    credentials: { openAiApi: CREDENTIAL },
  };
}

export function buildWorkflow() {
  nextId = 1;
  const nodes = [
    {
      parameters: {
        httpMethod: "POST",
        path: WEBHOOK_PATH,
        // Answer at once: a generation takes minutes, far longer than any proxy keeps a request open.
        responseMode: "onReceived",
        options: { rawBody: true },
      },
      id: nodeId(),
      name: "Episode request",
      type: "n8n-nodes-base.webhook",
      typeVersion: 2.1,
      position: [0, 300],
      webhookId: "0b6f2c52-1d9e-4c53-9b7e-5f0d8a1c2e01",
    },
    codeNode("Verify signature", [220, 300], verifyCode),
    {
      parameters: {
        conditions: {
          options: { caseSensitive: true, leftValue: "", typeValidation: "strict", version: 2 },
          conditions: [
            {
              id: "2f0c4b7a-6a1e-4f38-9c1d-0c9e7b3d5a11",
              leftValue: "={{ $json.valid }}",
              rightValue: "",
              operator: { type: "boolean", operation: "true", singleValue: true },
            },
          ],
          combinator: "and",
        },
        options: {},
      },
      id: nodeId(),
      name: "Signature valid?",
      type: "n8n-nodes-base.if",
      typeVersion: 2.2,
      position: [440, 300],
    },
    { parameters: {}, id: nodeId(), name: "Refuse unsigned request", type: "n8n-nodes-base.noOp", typeVersion: 1, position: [660, 480] },
    codeNode("Sign: research started", [660, 200], researchStartedCode),
    callbackNode("Report: research started", [880, 200]),
    agentNode("Research agent", [1100, 200], researchAgentCode),
    modelNode("Research model", [1100, 420]),
    codeNode("Sign: findings", [1320, 200], findingsCode),
    callbackNode("Report: findings", [1540, 200]),
    agentNode("Writer agent", [1760, 200], writerAgentCode),
    modelNode("Writer model", [1760, 420]),
    codeNode("Sign: review started", [1980, 200], reviewStartedCode),
    callbackNode("Report: review started", [2200, 200]),
    agentNode("QA agent", [2420, 200], qaAgentCode),
    modelNode("QA model", [2420, 420]),
    codeNode("Sign: completed", [2640, 200], completedCode),
    callbackNode("Report: completed", [2860, 200]),
    codeNode("Sign: failed", [2640, 560], failedCode),
    callbackNode("Report: failed", [2860, 560]),
  ];

  const main = (...targets) => ({ main: targets.map((list) => list.map((node) => ({ node, type: "main", index: 0 }))) });
  const model = (node) => ({ ai_languageModel: [[{ node, type: "ai_languageModel", index: 0 }]] });
  const connections = {
    "Episode request": main(["Verify signature"]),
    "Verify signature": main(["Signature valid?"]),
    "Signature valid?": main(["Sign: research started"], ["Refuse unsigned request"]),
    "Sign: research started": main(["Report: research started"]),
    "Report: research started": main(["Research agent"]),
    "Research agent": main(["Sign: findings"], ["Sign: failed"]),
    "Research model": model("Research agent"),
    "Sign: findings": main(["Report: findings"]),
    "Report: findings": main(["Writer agent"]),
    "Writer agent": main(["Sign: review started"], ["Sign: failed"]),
    "Writer model": model("Writer agent"),
    "Sign: review started": main(["Report: review started"]),
    "Report: review started": main(["QA agent"]),
    "QA agent": main(["Sign: completed"], ["Sign: failed"]),
    "QA model": model("QA agent"),
    "Sign: completed": main(["Report: completed"]),
    "Sign: failed": main(["Report: failed"]),
  };

  return {
    id: WORKFLOW_ID,
    name: "Many Futures: episode generation",
    active: false,
    nodes,
    connections,
    settings: { executionOrder: "v1", saveDataSuccessExecution: "all", saveDataErrorExecution: "all" },
    pinData: {},
    meta: { templateCredsSetupCompleted: true },
    tags: [],
  };
}

export function renderWorkflow() {
  return `${JSON.stringify(buildWorkflow(), null, 2)}\n`;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  fs.mkdirSync(path.dirname(WORKFLOW_PATH), { recursive: true });
  fs.writeFileSync(WORKFLOW_PATH, renderWorkflow());
  console.log(`wrote ${path.relative(process.cwd(), WORKFLOW_PATH)}`);
}
