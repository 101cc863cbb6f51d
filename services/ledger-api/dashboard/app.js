// The dashboard: plain JavaScript over the public API only (/v1/...), no framework, no network beyond
// this server. Amounts stay exact: they arrive as decimal strings and are summed as BigInt; only the
// drawing scale uses floating point. It asks for a read credential first, keeps it in sessionStorage
// (gone when the tab closes) and sends it as "Authorization: Bearer"; it shows what the credential's
// scope allows (GET /v1/me): an operator everything, an analyst the flow of value and revenue, a
// participant its own accounts.
'use strict';

const CREDENTIAL_KEY = 'tributary.credential';
/** What the signed-in credential may read: {scopes, operator, analyst, accounts}; null until signed in. */
let me = null;

const view = document.getElementById('view');
const COLORS = {
  fees: '#334155',
  protocol: '#7c3aed',
  'model-owner': '#2563eb',
  'datanet-owner': '#d97706',
  datanet: '#0f766e',
  contributor: '#059669',
};

function authorization() {
  const credential = sessionStorage.getItem(CREDENTIAL_KEY);
  return credential ? { authorization: `Bearer ${credential}` } : {};
}

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

async function api(path) {
  const response = await fetch(path, { headers: { accept: 'application/json', ...authorization() } });
  const body = await response.json();
  if (!response.ok) throw new ApiError(response.status, `${body.statusCode} ${body.error}: ${body.message}`);
  return body;
}

/** A CSV export: fetched with the credential (a plain link could not send it), then saved from a blob. */
async function download(path, filename) {
  const response = await fetch(path, { headers: authorization() });
  if (!response.ok) throw new ApiError(response.status, `${response.status}: the export was refused`);
  const url = URL.createObjectURL(await response.blob());
  const link = el('a', { href: url, download: filename });
  document.body.append(link);
  link.click();
  link.remove();
  URL.revokeObjectURL(url);
}

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  for (const child of children) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return node;
}

function svg(tag, attributes = {}) {
  const node = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  return node;
}

/** Minor units with thousands separators, exact (no Number on the way). */
function amount(minor) {
  const text = String(minor);
  const negative = text.startsWith('-');
  const digits = negative ? text.slice(1) : text;
  return (negative ? '-' : '') + digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

function rangeQuery() {
  const form = document.getElementById('range');
  const params = new URLSearchParams();
  for (const name of ['from', 'to']) if (form[name].value) params.set(name, new Date(form[name].value).toISOString());
  if (form.asset.value.trim()) params.set('asset', form.asset.value.trim());
  return params;
}

function mayOpenAccount(account) {
  return me !== null && (me.operator || me.accounts.includes(account));
}

function accountLink(account) {
  if (!mayOpenAccount(account)) return el('span', {}, account);
  return el('a', { href: `#/account/${encodeURIComponent(account)}`, 'data-account': account }, account);
}

// ---------------------------------------------------------------- sign in

function showLogin(problem) {
  const input = el('input', {
    type: 'password',
    name: 'credential',
    autocomplete: 'off',
    size: '60',
    placeholder: 'trr_… or an OIDC token',
    'data-testid': 'login-credential',
  });
  const form = el(
    'form',
    { id: 'login', 'data-testid': 'login' },
    el('h2', {}, 'Sign in'),
    el(
      'p',
      { class: 'muted' },
      'Paste a read credential (npm run ledger-api -- credentials create) or a token from your organisation. ',
      'It is kept in this tab only.',
    ),
    el('label', {}, 'Credential ', input),
    el('button', { type: 'submit', 'data-testid': 'login-submit' }, 'Sign in'),
    ...(problem ? [el('p', { class: 'error', 'data-testid': 'login-error' }, problem)] : []),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const credential = input.value.trim();
    if (!credential) return;
    sessionStorage.setItem(CREDENTIAL_KEY, credential);
    location.hash = '#/';
    start();
  });
  document.getElementById('whoami').replaceChildren();
  view.replaceChildren(el('section', {}, form));
  document.body.dataset.ready = 'login';
}

function signOut() {
  sessionStorage.removeItem(CREDENTIAL_KEY);
  me = null;
  showLogin();
}

function showWhoami() {
  const what = me.operator ? 'operator' : me.analyst ? 'analyst' : `participant: ${me.accounts.join(', ')}`;
  const button = el('button', { type: 'button', 'data-testid': 'sign-out' }, 'Sign out');
  button.addEventListener('click', signOut);
  document.getElementById('whoami').replaceChildren(el('span', { 'data-testid': 'whoami' }, what), button);
}

// ---------------------------------------------------------------- overview by scope

async function showOverview() {
  if (me.operator) return showOperatorOverview();
  if (me.analyst) return showAnalystOverview();
  return showParticipantOverview();
}

/** A participant's start: its own accounts, each a link to its page. */
async function showParticipantOverview() {
  const rows = me.accounts.map((account) => el('li', { 'data-testid': 'my-account' }, accountLink(account)));
  view.replaceChildren(
    el(
      'section',
      { id: 'my-accounts' },
      el('h2', {}, 'Your accounts'),
      el('ul', { 'data-testid': 'my-accounts' }, ...rows),
    ),
  );
}

/** An analyst's start: the flow of value and revenue per model and datanet; no account of anyone. */
async function showAnalystOverview() {
  const params = rangeQuery();
  const flowSection = await flowOfValue(params);
  const revenue = async (dimension) => {
    const rows = (await api(`/v1/revenue?dimension=${dimension}&${params}`)).items.map((row) =>
      el(
        'tr',
        { 'data-testid': `revenue-${dimension}-row` },
        el('td', {}, row.id),
        el('td', {}, row.asset),
        el('td', { class: 'num' }, amount(row.revenueMinor)),
        el('td', { class: 'num' }, row.inferenceCount),
      ),
    );
    return el(
      'section',
      { id: `revenue-${dimension}` },
      el('h2', {}, `Revenue per ${dimension}`),
      el(
        'table',
        {},
        el(
          'thead',
          {},
          el(
            'tr',
            {},
            el('th', {}, dimension),
            el('th', {}, 'asset'),
            el('th', { class: 'num' }, 'revenue'),
            el('th', { class: 'num' }, 'inferences'),
          ),
        ),
        el('tbody', {}, ...rows),
      ),
    );
  };
  view.replaceChildren(flowSection, await revenue('model'), await revenue('datanet'));
}

async function showOperatorOverview() {
  const params = rangeQuery();
  const flowSection = await flowOfValue(params);
  const earnerParams = new URLSearchParams(params);
  if (flowSection.dataset.asset) earnerParams.set('asset', flowSection.dataset.asset);
  const earners = await api(`/v1/top-earners?role=contributor&${earnerParams}`);
  const rows = earners.items.map((row) =>
    el(
      'tr',
      {},
      el('td', {}, accountLink(row.account)),
      el('td', {}, row.asset),
      el('td', { class: 'num' }, amount(row.earnedMinor)),
      el('td', { class: 'num' }, amount(row.balanceMinor)),
    ),
  );
  const earnersSection = el(
    'section',
    { id: 'top-earners' },
    el('h2', {}, 'Top contributors'),
    el(
      'table',
      {},
      el(
        'thead',
        {},
        el(
          'tr',
          {},
          el('th', {}, 'account'),
          el('th', {}, 'asset'),
          el('th', { class: 'num' }, 'earned'),
          el('th', { class: 'num' }, 'balance now'),
        ),
      ),
      el('tbody', {}, ...rows),
    ),
  );
  view.replaceChildren(flowSection, earnersSection, await producersSection());
}

/** The flow of value as totals and a Sankey diagram; the section carries the asset it shows. */
async function flowOfValue(params) {
  const flow = await api(`/v1/flow?${params}`);
  const flowSection = el(
    'section',
    { id: 'flow' },
    el('h2', {}, `Flow of value${flow.asset ? ` (${flow.asset})` : ''}`),
  );
  const columnTotal = (column) =>
    flow.nodes.filter((node) => node.column === column).reduce((sum, node) => sum + BigInt(node.valueMinor), 0n);
  flowSection.append(
    el(
      'div',
      { class: 'totals' },
      el(
        'div',
        {},
        el('span', {}, 'inference fees'),
        el('b', { 'data-testid': 'flow-total' }, amount(flow.totalFeeMinor)),
      ),
      el(
        'div',
        {},
        el('span', {}, 'paid out to parties'),
        el('b', { 'data-testid': 'flow-column-1-total' }, amount(columnTotal(1))),
      ),
      el(
        'div',
        {},
        el('span', {}, 'to contributors'),
        el('b', { 'data-testid': 'flow-column-2-total' }, amount(columnTotal(2))),
      ),
      el('div', {}, el('span', {}, 'inferences'), el('b', { 'data-testid': 'flow-inferences' }, flow.inferenceCount)),
    ),
    flow.nodes.length ? sankey(flow) : el('p', { class: 'muted' }, 'No attributed inference in this range yet.'),
  );
  if (flow.asset) flowSection.dataset.asset = flow.asset;
  return flowSection;
}

/** Every producer's standing per asset: what it reported in fees, paid in, and the shortfall between them. */
async function producersSection() {
  const section = el('section', { id: 'producers' }, el('h2', {}, 'Producers: fees reported and paid in'));
  let funding;
  try {
    funding = await api('/v1/funding');
  } catch (error) {
    section.append(
      el('p', { class: 'muted', 'data-testid': 'producers-unavailable' }, `Funding not available: ${error.message}`),
    );
    return section;
  }
  const rows = funding.producers.map((row) =>
    el(
      'tr',
      { 'data-testid': 'producer-row', 'data-producer': row.producer },
      el('td', {}, row.producer === '' ? '(unrecorded)' : row.producer),
      el('td', {}, row.asset),
      el('td', { class: 'num' }, amount(row.feesReportedMinor)),
      el('td', { class: 'num' }, amount(row.netDepositsMinor)),
      el(
        'td',
        { class: `num${BigInt(row.shortfallMinor) > 0n ? ' short' : ''}`, 'data-testid': 'producer-shortfall' },
        amount(row.shortfallMinor),
      ),
      el('td', { class: `num${BigInt(row.debtMinor) > 0n ? ' short' : ''}` }, amount(row.debtMinor)),
    ),
  );
  const problems = funding.reconciliation.problems.map((problem) => el('li', { class: 'error' }, problem));
  section.append(
    rows.length
      ? el(
          'table',
          {},
          el(
            'thead',
            {},
            el(
              'tr',
              {},
              el('th', {}, 'producer'),
              el('th', {}, 'asset'),
              el('th', { class: 'num' }, 'fees reported'),
              el('th', { class: 'num' }, 'paid in (net)'),
              el('th', { class: 'num' }, 'shortfall'),
              el('th', { class: 'num' }, 'debt'),
            ),
          ),
          el('tbody', {}, ...rows),
        )
      : el('p', { class: 'muted' }, 'No producer has reported a fee yet.'),
    el(
      'p',
      { class: funding.reconciliation.holds ? 'muted' : 'error', 'data-testid': 'reconciliation' },
      funding.reconciliation.holds
        ? 'Funding reconciles: every unit paid in is paid out, in flight, owed, or kept by the treasury.'
        : 'Funding does not reconcile:',
    ),
    ...(problems.length ? [el('ul', {}, ...problems)] : []),
  );
  return section;
}

/** A three-column Sankey: node heights and band widths proportional to value; hand-rolled SVG. */
function sankey(flow) {
  const width = 1100,
    height = 460,
    nodeWidth = 14,
    gap = 10,
    top = 10;
  const columns = [0, 1, 2].map((column) => flow.nodes.filter((node) => node.column === column));
  const total = Number(flow.totalFeeMinor) || 1;
  const maxNodes = Math.max(...columns.map((nodes) => nodes.length));
  const scale = (height - top * 2 - gap * Math.max(0, maxNodes - 1)) / total;
  const place = new Map();
  columns.forEach((nodes, column) => {
    let y = top;
    const x = 20 + column * ((width - 260) / 2);
    for (const node of nodes) {
      const h = Math.max(2, Number(node.valueMinor) * scale);
      place.set(node.id, { x, y, h, outY: y, inY: y, node });
      y += h + gap;
    }
  });
  const root = svg('svg', {
    viewBox: `0 0 ${width} ${height}`,
    width: '100%',
    role: 'img',
    'aria-label': 'flow of value',
    'data-testid': 'flow-diagram',
  });
  for (const link of flow.links) {
    const source = place.get(link.source),
      target = place.get(link.target);
    if (!source || !target) continue;
    const w = Math.max(1, Number(link.valueMinor) * scale);
    const x0 = source.x + nodeWidth,
      x1 = target.x,
      y0 = source.outY + w / 2,
      y1 = target.inY + w / 2,
      mid = (x0 + x1) / 2;
    source.outY += w;
    target.inY += w;
    const path = svg('path', {
      class: 'link',
      d: `M${x0},${y0} C${mid},${y0} ${mid},${y1} ${x1},${y1}`,
      stroke: colorOf(target.node.id),
      'stroke-width': w,
      'data-source': link.source,
      'data-target': link.target,
      'data-value': link.valueMinor,
    });
    path.append(svg('title'));
    path.firstChild.textContent = `${link.source} → ${link.target}: ${amount(link.valueMinor)}`;
    root.append(path);
  }
  for (const { x, y, h, node } of place.values()) {
    const group = svg('g', { 'data-node': node.id, 'data-column': node.column, 'data-value': node.valueMinor });
    const rect = svg('rect', { x, y, width: nodeWidth, height: h, fill: colorOf(node.id) });
    const label = svg('text', { x: x + nodeWidth + 6, y: y + h / 2 + 4 });
    label.textContent = `${node.label} · ${amount(node.valueMinor)}`;
    if (node.id.startsWith('contributor:') && !node.id.endsWith('(other)') && mayOpenAccount(node.id)) {
      const link = svg('a', { href: `#/account/${encodeURIComponent(node.id)}`, 'data-account': node.id });
      link.append(rect, label);
      group.append(link);
    } else {
      group.append(rect, label);
    }
    root.append(group);
  }
  return root;
}

function colorOf(id) {
  const kind = id === 'fees' ? 'fees' : id.split(':')[0];
  return COLORS[kind] || '#64748b';
}

// ---------------------------------------------------------------- an account: balances, statement, lineage

async function showAccount(account) {
  const path = `/v1/accounts/${encodeURIComponent(account)}`;
  const summary = await api(path);
  const header = el(
    'section',
    { id: 'account' },
    el('h2', { 'data-testid': 'account-id' }, account),
    el(
      'div',
      { class: 'totals' },
      ...summary.balances.map((balance) =>
        el(
          'div',
          {},
          el(
            'span',
            {},
            `${balance.asset} balance (credited ${amount(balance.creditedMinor)}, debited ${amount(balance.debitedMinor)})`,
          ),
          el('b', { 'data-testid': `balance-${balance.asset}` }, amount(balance.balanceMinor)),
        ),
      ),
    ),
  );
  const body = el('tbody');
  const csvLink = el('a', { href: `${path}/statement?format=csv`, 'data-testid': 'statement-csv' }, '(CSV)');
  csvLink.addEventListener('click', (event) => {
    event.preventDefault();
    download(`${path}/statement?format=csv`, `statement-${account.replace(/[^A-Za-z0-9._-]/g, '_')}.csv`).catch(
      showError,
    );
  });
  const statement = el(
    'section',
    { id: 'statement' },
    el('h2', {}, 'Statement ', csvLink),
    el(
      'table',
      {},
      el(
        'thead',
        {},
        el(
          'tr',
          {},
          el('th', {}, 'from'),
          el('th', {}, 'asset'),
          el('th', { class: 'num' }, 'amount'),
          el('th', {}, 'ledger position'),
        ),
      ),
      body,
    ),
  );
  const more = el('button', { class: 'more', type: 'button' }, 'more');
  let cursor = null;
  const load = async () => {
    const page = await api(`${path}/statement?limit=50${cursor ? `&cursor=${cursor}` : ''}`);
    for (const entry of page.items) {
      const trace =
        entry.trace.kind === 'inference' && me.operator
          ? el(
              'a',
              { href: `#/inference/${encodeURIComponent(entry.trace.inferenceId)}` },
              `inference ${entry.trace.inferenceId}`,
            )
          : entry.trace.kind === 'inference'
            ? el('span', {}, `inference ${entry.trace.inferenceId}`)
            : el('span', {}, `payout ${entry.trace.payoutId} (${entry.trace.stage})`);
      body.append(
        el(
          'tr',
          { 'data-testid': 'statement-row' },
          el('td', {}, trace),
          el('td', {}, entry.asset),
          el('td', { class: 'num' }, amount(entry.amountMinor)),
          el('td', { class: 'muted' }, `${entry.sourceTopic}[${entry.sourcePartition}] #${entry.chainSeq}`),
        ),
      );
    }
    cursor = page.nextCursor;
    more.hidden = cursor === null;
  };
  more.addEventListener('click', () => load().catch(showError));
  statement.append(more);
  await load();
  const sections = [header, await accountFunding(account), statement];
  if (summary.role === 'contributor') sections.push(await lineage(account));
  view.replaceChildren(...sections);
}

/** What the account earned, what producers' deposits back, and what waits for funding from whom. */
async function accountFunding(account) {
  const section = el('section', { id: 'funding' }, el('h2', {}, 'Funding'));
  let funding;
  try {
    funding = await api(`/v1/accounts/${encodeURIComponent(account)}/funding`);
  } catch (error) {
    section.append(el('p', { class: 'muted' }, `Funding not available: ${error.message}`));
    return section;
  }
  if (funding.assets.length === 0) {
    section.append(el('p', { class: 'muted' }, 'Nothing earned from an inference producer.'));
    return section;
  }
  const rows = funding.assets.map((row) =>
    el(
      'tr',
      { 'data-testid': 'funding-row' },
      el('td', {}, row.asset),
      el('td', { class: 'num' }, amount(row.earnedMinor)),
      el('td', { class: 'num' }, amount(row.backedMinor)),
      el('td', { class: 'num' }, amount(row.paidOrInFlightMinor)),
      el('td', { class: 'num' }, amount(row.payableMinor)),
      el(
        'td',
        { class: `num${BigInt(row.pendingFundingMinor) > 0n ? ' short' : ''}`, 'data-testid': `pending-${row.asset}` },
        amount(row.pendingFundingMinor),
      ),
      el('td', { class: 'num' }, amount(row.heldMinor)),
      el(
        'td',
        { 'data-testid': `waiting-on-${row.asset}` },
        row.waitingOn.length === 0
          ? '—'
          : row.waitingOn
              .map((wait) => `${wait.producer === '' ? '(unrecorded)' : wait.producer}: ${amount(wait.amountMinor)}`)
              .join(', '),
      ),
    ),
  );
  section.append(
    el(
      'table',
      {},
      el(
        'thead',
        {},
        el(
          'tr',
          {},
          el('th', {}, 'asset'),
          el('th', { class: 'num' }, 'earned'),
          el('th', { class: 'num' }, 'backed'),
          el('th', { class: 'num' }, 'paid or in flight'),
          el('th', { class: 'num' }, 'payable'),
          el('th', { class: 'num' }, 'pending funding'),
          el('th', { class: 'num' }, 'held'),
          el('th', {}, 'waiting on producers'),
        ),
      ),
      el('tbody', {}, ...rows),
    ),
  );
  return section;
}

/** The contributions behind a contributor's earnings, each with the inferences that paid it. */
async function lineage(account) {
  const contributions = await api(`/v1/accounts/${encodeURIComponent(account)}/contributions?limit=100`);
  const rows = contributions.items.map((row) =>
    el(
      'tr',
      { 'data-testid': 'lineage-row' },
      el('td', {}, row.contributionId),
      el('td', {}, row.datanetId),
      el('td', {}, row.asset),
      el('td', { class: 'num' }, amount(row.earnedMinor)),
      el('td', { class: 'num' }, row.inferenceCount),
    ),
  );
  return el(
    'section',
    { id: 'lineage' },
    el('h2', {}, 'Lineage: contributions that earned'),
    el(
      'table',
      {},
      el(
        'thead',
        {},
        el(
          'tr',
          {},
          el('th', {}, 'contribution'),
          el('th', {}, 'datanet'),
          el('th', {}, 'asset'),
          el('th', { class: 'num' }, 'earned'),
          el('th', { class: 'num' }, 'inferences'),
        ),
      ),
      el('tbody', {}, ...rows),
    ),
  );
}

async function showInference(inferenceId) {
  const decision = await api(`/v1/inferences/${encodeURIComponent(inferenceId)}`);
  const shares = decision.shares.map((share) =>
    el(
      'tr',
      {},
      el('td', {}, share.account.startsWith('consumer:') ? share.account : accountLink(share.account)),
      el('td', {}, share.role),
      el('td', { class: 'num' }, amount(share.amountMinor)),
    ),
  );
  view.replaceChildren(
    el(
      'section',
      { id: 'inference' },
      el('h2', {}, `Inference ${inferenceId}`),
      el('ul', {}, ...decision.lines.map((line) => el('li', {}, line))),
      el(
        'table',
        {},
        el(
          'thead',
          {},
          el('tr', {}, el('th', {}, 'account'), el('th', {}, 'role'), el('th', { class: 'num' }, 'amount')),
        ),
        el('tbody', {}, ...shares),
      ),
    ),
  );
}

// ---------------------------------------------------------------- live lag and event rate

let lastSample = null;
async function sampleLag() {
  const badge = document.getElementById('lag');
  try {
    const lag = await api('/v1/lag');
    const now = Date.parse(lag.observedAt);
    const applied = BigInt(lag.appliedEvents);
    const rate =
      lastSample && now > lastSample.at ? Number(applied - lastSample.applied) / ((now - lastSample.at) / 1000) : 0;
    lastSample = { at: now, applied };
    badge.textContent =
      lag.lagRecords === null
        ? `lag unknown (Kafka: ${lag.kafkaProblem}) · ${amount(lag.appliedEvents)} events`
        : `lag ${amount(lag.lagRecords)} records · ${rate.toFixed(1)} events/s · ${amount(lag.appliedEvents)} applied`;
    badge.className = lag.lagRecords === null ? 'down' : BigInt(lag.lagRecords) > 10n ? 'behind' : '';
    badge.dataset.lagRecords = lag.lagRecords ?? '';
  } catch (error) {
    badge.textContent = `lag unavailable: ${error.message}`;
    badge.className = 'down';
  }
}

// ---------------------------------------------------------------- DLQ depth

async function sampleDlq() {
  const badge = document.getElementById('dlq');
  try {
    const dlq = await api('/v1/dlq');
    const waiting = dlq.groups.filter((row) => row.depth > 0).map((row) => `${row.group} ${row.depth}`);
    const problems = dlq.groups.filter((row) => row.problem !== null);
    badge.textContent =
      dlq.depth === null
        ? `DLQ unknown (Kafka: ${problems[0]?.problem ?? 'not read yet'})`
        : `DLQ ${dlq.depth}${waiting.length > 0 ? ` (${waiting.join(', ')})` : ''}`;
    badge.className = dlq.depth === null || problems.length > 0 ? 'down' : dlq.depth > 0 ? 'behind' : '';
    badge.dataset.depth = dlq.depth === null ? '' : String(dlq.depth);
  } catch (error) {
    badge.textContent = `DLQ unavailable: ${error.message}`;
    badge.className = 'down';
  }
}

// ---------------------------------------------------------------- routing

function showError(error) {
  view.replaceChildren(el('section', {}, el('p', { class: 'error', 'data-testid': 'error' }, error.message)));
}

async function route() {
  if (me === null) return;
  const [, page, id] = /^#\/(\w+)?\/?(.*)$/.exec(location.hash || '#/') || [];
  try {
    if (page === 'account' && id) await showAccount(decodeURIComponent(id));
    else if (page === 'inference' && id) await showInference(decodeURIComponent(id));
    else await showOverview();
    document.body.dataset.ready = location.hash || '#/';
  } catch (error) {
    if (error.status === 401) return showLogin('The credential was refused (unknown, revoked or expired).');
    showError(error);
  }
}

/** Signs in with the stored credential (or asks for one), then shows what its scope allows. */
async function start() {
  if (!sessionStorage.getItem(CREDENTIAL_KEY)) return showLogin();
  try {
    me = await api('/v1/me');
  } catch (error) {
    sessionStorage.removeItem(CREDENTIAL_KEY);
    return showLogin(
      error.status === 401 ? 'The credential was refused (unknown, revoked or expired).' : error.message,
    );
  }
  showWhoami();
  // Lag and dead letters are the operator's status: shown to operators only.
  for (const id of ['lag', 'dlq']) document.getElementById(id).hidden = !me.operator;
  document.getElementById('range').hidden = !(me.operator || me.analyst);
  if (me.operator) startSampling();
  await route();
}

let sampling = false;
function startSampling() {
  if (sampling) return;
  sampling = true;
  sampleLag();
  setInterval(() => me?.operator && sampleLag(), 2000);
  sampleDlq();
  setInterval(() => me?.operator && sampleDlq(), 10000);
}

document.getElementById('range').addEventListener('submit', (event) => {
  event.preventDefault();
  location.hash = '#/';
  route();
});
window.addEventListener('hashchange', route);
start();
