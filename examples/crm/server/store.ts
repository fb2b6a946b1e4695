/**
 * The demo CRM's data: a few contacts, tags, lists and campaigns held in memory, and an
 * outbox where "sent" mail lands instead of reaching anyone. Every process starts from the
 * same seed, so a demo run is repeatable.
 */

export interface Contact {
  id: number;
  email: string;
  first_name: string;
  last_name: string;
  phone?: string;
  status: 'subscribed' | 'unsubscribed';
  tags: number[];
  lists: number[];
}

export interface Named {
  id: number;
  title: string;
  slug: string;
  description?: string;
}

export interface Campaign {
  id: number;
  title: string;
  subject: string;
  template_id?: number;
  recipient_list: number[];
  status: 'draft' | 'paused' | 'working' | 'archived';
  /** Contacts already mailed: resuming continues with the others, as FluentCRM does. */
  sent_to: number[];
}

export interface Mail {
  campaignId: number;
  to: string;
  subject: string;
}

/** Anything else the server keeps (templates, automations, webhooks, smart links): stored as given. */
export type Row = Record<string, unknown> & { id: number };

export class CrmStore {
  readonly contacts = new Map<string, Contact>();
  readonly tags = new Map<string, Named>();
  readonly lists = new Map<string, Named>();
  readonly campaigns = new Map<string, Campaign>();
  readonly templates = new Map<string, Row>();
  readonly automations = new Map<string, Row>();
  readonly webhooks = new Map<string, Row>();
  readonly smartLinks = new Map<string, Row>();
  readonly outbox: Mail[] = [];
  private nextId = 100;

  constructor() {
    const contacts: Array<[string, string, string, number[]]> = [
      ['ada@example.com', 'Ada', 'Lovelace', [1]],
      ['alan@example.com', 'Alan', 'Turing', [1]],
      ['grace@example.com', 'Grace', 'Hopper', [1, 2]],
      ['edsger@example.com', 'Edsger', 'Dijkstra', [2]],
      ['barbara@example.com', 'Barbara', 'Liskov', [2]],
    ];
    contacts.forEach(([email, first_name, last_name, lists], index) => {
      const id = index + 1;
      this.contacts.set(String(id), { id, email, first_name, last_name, status: 'subscribed', tags: id <= 2 ? [1] : [], lists });
    });
    this.put(this.tags, { id: 1, title: 'Customer', slug: 'customer' });
    this.put(this.tags, { id: 2, title: 'Webinar 2026', slug: 'webinar-2026' });
    this.put(this.tags, { id: 3, title: 'AW-progress-75', slug: 'aw-progress-75' });
    this.put(this.lists, { id: 1, title: 'Newsletter', slug: 'newsletter' });
    this.put(this.lists, { id: 2, title: 'Customers', slug: 'customers' });
    this.put(this.campaigns, { id: 5, title: 'November newsletter', subject: 'What is new in November', recipient_list: [1], status: 'paused', sent_to: [] });
    this.put(this.campaigns, { id: 6, title: 'Customer survey', subject: 'Two minutes for us?', recipient_list: [2], status: 'paused', sent_to: [] });
    this.put(this.campaigns, { id: 7, title: 'Black Friday', subject: '50% off, today only', recipient_list: [1, 2], status: 'paused', sent_to: [] });
    this.put(this.templates, { id: 1, title: 'Plain', subject: '{{subject}}', body: '<p>{{content}}</p>' });
    this.put(this.automations, { id: 1, title: 'Welcome series', trigger: 'fluentcrm_contact_added_to_lists', status: 'published' });
  }

  newId(): number {
    return this.nextId++;
  }

  put<T extends { id: number }>(table: Map<string, T>, row: T): T {
    table.set(String(row.id), row);
    return row;
  }

  /** Contacts on any of the lists, each once. */
  recipients(listIds: readonly number[]): Contact[] {
    return [...this.contacts.values()].filter((contact) => contact.status === 'subscribed' && contact.lists.some((list) => listIds.includes(list)));
  }

  /** Resuming mails every recipient not mailed yet, one mail each, into the outbox. */
  resume(campaign: Campaign): Mail[] {
    campaign.status = 'working';
    const mails: Mail[] = [];
    for (const contact of this.recipients(campaign.recipient_list)) {
      if (campaign.sent_to.includes(contact.id)) continue;
      campaign.sent_to.push(contact.id);
      mails.push({ campaignId: campaign.id, to: contact.email, subject: campaign.subject });
    }
    this.outbox.push(...mails);
    return mails;
  }
}
