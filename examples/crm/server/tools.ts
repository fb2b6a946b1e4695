/**
 * What each of the 36 FluentCRM tools does to the in-memory CRM. Like the real server, no
 * tool validates its arguments: ids are pasted into the REST path the real server would
 * request (`/subscribers/${subscriberId}`), so a string id such as "1/../../campaigns/5/resume"
 * produces a path that leaves the resource it names. The demo records that path; only a
 * policy in front of the server (validate_input) can stop it.
 */
import { posix } from 'node:path';
import type { Campaign, Contact, CrmStore, Mail, Named, Row } from './store';

export type Args = Record<string, unknown>;

export interface ToolOutcome {
  /** The REST request the real server would make for this call, e.g. "DELETE /subscribers/3". */
  request: string;
  /** Where that request really lands once `..` segments are resolved, when that differs. */
  resolvesTo?: string;
  result: unknown;
  /** Mail this call put in the outbox. */
  sent?: Mail[];
}

/** A failed call, answered like the real server's API errors (an isError result). */
export class CrmError extends Error {
  /** The request the real server made before the API refused it: it reached the upstream all the same. */
  constructor(message: string, readonly request?: string) {
    super(message);
  }
}

type Handler = (args: Args, crm: CrmStore) => Omit<ToolOutcome, 'resolvesTo'>;

/** The id as the real server's template literal would print it: no check, no conversion. */
function segment(value: unknown): string {
  return String(value);
}

function find<T>(table: Map<string, T>, id: unknown, what: string, request: string): T {
  const row = table.get(segment(id));
  if (!row) throw new CrmError(`FluentCRM API Error: ${what} ${segment(id)} not found`, request);
  return row;
}

function ids(value: unknown): number[] {
  return Array.isArray(value) ? value.filter((item): item is number => typeof item === 'number') : [];
}

function text(value: unknown, fallback = ''): string {
  return typeof value === 'string' ? value : fallback;
}

function page<T>(rows: readonly T[], args: Args, matches: (row: T, search: string) => boolean): unknown {
  const perPage = typeof args.per_page === 'number' && args.per_page > 0 ? args.per_page : 10;
  const current = typeof args.page === 'number' && args.page > 0 ? args.page : 1;
  const search = text(args.search).toLowerCase();
  const found = search ? rows.filter((row) => matches(row, search)) : [...rows];
  return { total: found.length, per_page: perPage, current_page: current, data: found.slice((current - 1) * perPage, current * perPage) };
}

const byTitle = (row: object, search: string): boolean => text('title' in row ? row.title : undefined).toLowerCase().includes(search);
const contactMatches = (contact: Contact, search: string): boolean =>
  `${contact.email} ${contact.first_name} ${contact.last_name}`.toLowerCase().includes(search);

function named(crm: CrmStore, table: Map<string, Named>, args: Args): Named {
  const title = text(args.title);
  return crm.put(table, { id: crm.newId(), title, slug: text(args.slug, title.toLowerCase().replace(/[^a-z0-9]+/g, '-')), description: text(args.description) });
}

function stored(crm: CrmStore, table: Map<string, Row>, args: Args): Row {
  return crm.put(table, { ...args, id: crm.newId() });
}

function contactLinks(field: 'tags' | 'lists', attach: boolean): Handler {
  const key = field === 'tags' ? 'tagIds' : 'listIds';
  return (args, crm) => {
    const request = `POST /subscribers/${segment(args.subscriberId)}/${field}${attach ? '' : '/detach'}`;
    const contact = find(crm.contacts, args.subscriberId, 'contact', request);
    const changed = ids(args[key]);
    contact[field] = attach ? [...new Set([...contact[field], ...changed])] : contact[field].filter((id) => !changed.includes(id));
    return { request, result: { message: `${field} updated`, subscriber: contact } };
  };
}

function smartLinkErrors(args: Args): string[] {
  const errors: string[] = [];
  if (typeof args.title !== 'string' || !args.title) errors.push('Title is required and must be a string');
  if (typeof args.target_url !== 'string' || !args.target_url) errors.push('Target URL is required and must be a string');
  else if (!args.target_url.startsWith('http')) errors.push('Target URL must start with http:// or https://');
  if (typeof args.slug === 'string' && !/^[a-z0-9-]+$/.test(args.slug)) errors.push('Slug must contain only lowercase letters, numbers, and hyphens');
  return errors;
}

function campaignCall(verb: 'pause' | 'resume'): Handler {
  return (args, crm) => {
    const request = `POST /campaigns/${segment(args.campaignId)}/${verb}`;
    const campaign: Campaign = find(crm.campaigns, args.campaignId, 'campaign', request);
    if (verb === 'pause') {
      campaign.status = 'paused';
      return { request, result: { message: 'Campaign paused', campaign } };
    }
    const sent = crm.resume(campaign);
    return { request, sent, result: { message: `Campaign resumed: ${sent.length} emails sent`, campaign: { id: campaign.id, title: campaign.title, status: campaign.status }, sent } };
  };
}

const handlers: Record<string, Handler> = {
  fluentcrm_list_contacts: (args, crm) => ({ request: 'GET /subscribers', result: page([...crm.contacts.values()], args, contactMatches) }),
  fluentcrm_get_contact: (args, crm) => {
    const request = `GET /subscribers/${segment(args.subscriberId)}`;
    return { request, result: { subscriber: find(crm.contacts, args.subscriberId, 'contact', request) } };
  },
  fluentcrm_find_contact_by_email: (args, crm) => ({
    request: 'GET /subscribers',
    result: [...crm.contacts.values()].find((contact) => contact.email === text(args.email).toLowerCase()) ?? null,
  }),
  fluentcrm_create_contact: (args, crm) => {
    const id = crm.newId();
    const contact: Contact = { id, email: text(args.email), first_name: text(args.first_name), last_name: text(args.last_name), status: 'subscribed', tags: [], lists: [] };
    if (typeof args.phone === 'string') contact.phone = args.phone;
    return { request: 'POST /subscribers', result: { message: 'Contact created', subscriber: crm.put(crm.contacts, contact) } };
  },
  fluentcrm_update_contact: (args, crm) => {
    const request = `PUT /subscribers/${segment(args.subscriberId)}`;
    const contact = find(crm.contacts, args.subscriberId, 'contact', request);
    for (const field of ['first_name', 'last_name', 'phone'] as const) if (typeof args[field] === 'string') contact[field] = args[field];
    return { request, result: { message: 'Contact updated', subscriber: contact } };
  },
  fluentcrm_delete_contact: (args, crm) => {
    const request = `DELETE /subscribers/${segment(args.subscriberId)}`;
    const contact = find(crm.contacts, args.subscriberId, 'contact', request);
    crm.contacts.delete(String(contact.id));
    return { request, result: { message: 'Contact deleted', id: contact.id } };
  },
  fluentcrm_list_tags: (args, crm) => ({ request: 'GET /tags', result: page([...crm.tags.values()], args, byTitle) }),
  fluentcrm_create_tag: (args, crm) => ({ request: 'POST /tags', result: { message: 'Tag created', tag: named(crm, crm.tags, args) } }),
  fluentcrm_delete_tag: (args, crm) => {
    const request = `DELETE /tags/${segment(args.tagId)}`;
    crm.tags.delete(String(find(crm.tags, args.tagId, 'tag', request).id));
    return { request, result: { message: 'Tag deleted' } };
  },
  fluentcrm_attach_tag_to_contact: contactLinks('tags', true),
  fluentcrm_detach_tag_from_contact: contactLinks('tags', false),
  fluentcrm_list_lists: (_args, crm) => ({ request: 'GET /lists', result: { lists: [...crm.lists.values()] } }),
  fluentcrm_create_list: (args, crm) => ({ request: 'POST /lists', result: { message: 'List created', list: named(crm, crm.lists, args) } }),
  fluentcrm_delete_list: (args, crm) => {
    const request = `DELETE /lists/${segment(args.listId)}`;
    crm.lists.delete(String(find(crm.lists, args.listId, 'list', request).id));
    return { request, result: { message: 'List deleted' } };
  },
  fluentcrm_attach_contact_to_list: contactLinks('lists', true),
  fluentcrm_detach_contact_from_list: contactLinks('lists', false),
  fluentcrm_list_campaigns: (args, crm) => ({
    request: 'GET /campaigns',
    result: page([...crm.campaigns.values()].map(({ sent_to, ...campaign }) => ({ ...campaign, sent: sent_to.length })), args, byTitle),
  }),
  fluentcrm_create_campaign: (args, crm) => {
    const campaign: Campaign = { id: crm.newId(), title: text(args.title), subject: text(args.subject), recipient_list: ids(args.recipient_list), status: 'draft', sent_to: [] };
    if (typeof args.template_id === 'number') campaign.template_id = args.template_id;
    return { request: 'POST /campaigns', result: { message: 'Campaign created', campaign: crm.put(crm.campaigns, campaign) } };
  },
  fluentcrm_pause_campaign: campaignCall('pause'),
  fluentcrm_resume_campaign: campaignCall('resume'),
  fluentcrm_delete_campaign: (args, crm) => {
    const request = `DELETE /campaigns/${segment(args.campaignId)}`;
    crm.campaigns.delete(String(find(crm.campaigns, args.campaignId, 'campaign', request).id));
    return { request, result: { message: 'Campaign deleted' } };
  },
  fluentcrm_list_email_templates: (_args, crm) => ({ request: 'GET /email-templates', result: { templates: [...crm.templates.values()] } }),
  fluentcrm_create_email_template: (args, crm) => ({ request: 'POST /email-templates', result: { message: 'Template created', template: stored(crm, crm.templates, args) } }),
  fluentcrm_list_automations: (args, crm) => ({ request: 'GET /funnels', result: page([...crm.automations.values()], args, byTitle) }),
  fluentcrm_create_automation: (args, crm) => ({ request: 'POST /funnels', result: { message: 'Automation created', funnel: stored(crm, crm.automations, { ...args, status: 'draft' }) } }),
  fluentcrm_list_webhooks: (_args, crm) => ({ request: 'GET /webhooks', result: { webhooks: [...crm.webhooks.values()] } }),
  fluentcrm_create_webhook: (args, crm) => ({ request: 'POST /webhook', result: { message: 'Webhook created', webhook: stored(crm, crm.webhooks, args) } }),
  fluentcrm_list_smart_links: (args, crm) => ({ request: 'GET /smart-links', result: page([...crm.smartLinks.values()], args, byTitle) }),
  fluentcrm_get_smart_link: (args, crm) => {
    const request = `GET /smart-links/${segment(args.smartLinkId)}`;
    return { request, result: { smart_link: find(crm.smartLinks, args.smartLinkId, 'smart link', request) } };
  },
  fluentcrm_create_smart_link: (args, crm) => ({ request: 'POST /smart-links', result: { message: 'Smart Link created', smart_link: stored(crm, crm.smartLinks, args) } }),
  fluentcrm_update_smart_link: (args, crm) => {
    const request = `PUT /smart-links/${segment(args.smartLinkId)}`;
    const link = find(crm.smartLinks, args.smartLinkId, 'smart link', request);
    const { smartLinkId: _ignored, ...changes } = args;
    Object.assign(link, changes);
    return { request, result: { message: 'Smart Link updated', smart_link: link } };
  },
  fluentcrm_delete_smart_link: (args, crm) => {
    const request = `DELETE /smart-links/${segment(args.smartLinkId)}`;
    crm.smartLinks.delete(String(find(crm.smartLinks, args.smartLinkId, 'smart link', request).id));
    return { request, result: { message: 'Smart Link deleted' } };
  },
  // The real server computes these two locally, without a request; "local" says so.
  fluentcrm_generate_smart_link_shortcode: (args) => {
    const slug = text(args.slug);
    const shortcode = typeof args.linkText === 'string' ? `<a href="{{fc_smart_link slug='${slug}'}}">${args.linkText}</a>` : `{{fc_smart_link slug='${slug}'}}`;
    return { request: 'local', result: { shortcode } };
  },
  fluentcrm_validate_smart_link_data: (args) => {
    const errors = smartLinkErrors(args);
    return { request: 'local', result: { valid: errors.length === 0, errors } };
  },
  fluentcrm_dashboard_stats: (_args, crm) => ({
    request: 'GET /reports/dashboard-stats',
    result: { contacts: crm.contacts.size, campaigns: crm.campaigns.size, emails_sent: crm.outbox.length },
  }),
  fluentcrm_custom_fields: () => ({ request: 'GET /custom-fields', result: { fields: [{ slug: 'company', label: 'Company', type: 'text' }] } }),
};

export const DEMO_TOOL_NAMES: readonly string[] = Object.keys(handlers);

/** Runs one tool. Throws CrmError for the API's own failures (unknown id, unknown tool). */
export function runTool(name: string, args: Args, crm: CrmStore): ToolOutcome {
  const handler = handlers[name];
  if (!handler) throw new CrmError(`Unknown tool: ${name}`);
  const outcome = handler(args, crm);
  const resolved = resolvesTo(outcome.request);
  return resolved ? { ...outcome, resolvesTo: resolved } : outcome;
}

/**
 * Where a request really lands: an HTTP client resolves `..` segments before sending, so
 * "DELETE /subscribers/1/../../campaigns/5/resume" is "DELETE /campaigns/5/resume" on the wire.
 * Undefined when the path has nothing to resolve.
 */
export function resolvesTo(request: string): string | undefined {
  const match = /^([A-Z]+) (\/.*)$/.exec(request);
  if (!match) return undefined;
  const resolved = posix.normalize(match[2]!);
  return resolved === match[2] ? undefined : `${match[1]!} ${resolved}`;
}
