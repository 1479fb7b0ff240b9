import { Readable } from 'node:stream';

import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Decimal } from 'decimal.js';
import ExcelJS from 'exceljs';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createApiWorld, type ApiWorld, type Caller } from '../../../test/support/api.js';
import { availableBackends } from '../../../test/support/databases.js';
import { beijing, createSystem, ZONE } from '../../../test/support/fixtures.js';
import { billDay } from '../../billing/daily-billing.js';
import { addDays, dayOf } from '../../billing/days.js';
import { BillingRecordRepository } from '../../db/repositories/billing-record.repository.js';
import { setTenantDiscount } from '../../inventory/tenants.js';
import { authPlugin } from '../auth/plugin.js';
import { handleError } from '../errors.js';
import { ErrorResponse } from '../schemas.js';
import { decimalCell, EXPORT_COLUMNS, readBatches } from './billing-records-export.js';
import { billingRecordRoutes } from './billing-records.js';

const backends = await availableBackends();

const DAYS = ['2026-01-30', '2026-01-31', '2026-02-01', '2026-02-02'];

type RecordJson = Record<string, unknown> & { id: number; billing_date: string; amount: string };

/** Splits exported CSV text into rows of fields with exceljs's CSV reader (fast-csv), keeping every field as text. */
async function parseCsv(text: string): Promise<string[][]> {
  const workbook = new ExcelJS.Workbook();
  const sheet = await workbook.csv.read(Readable.from([text]), { map: (value: string) => value });
  const rows: string[][] = [];
  sheet.eachRow((row) => rows.push((row.values as string[]).slice(1)));
  return rows;
}

async function readXlsx(buffer: Buffer): Promise<ExcelJS.CellValue[][]> {
  const workbook = new ExcelJS.Workbook();
  await workbook.xlsx.load(buffer as unknown as ArrayBuffer);
  const rows: ExcelJS.CellValue[][] = [];
  workbook.worksheets[0]!.eachRow((row) => rows.push((row.values as ExcelJS.CellValue[]).slice(1)));
  return rows;
}

/** The CSV text a JSON record must produce, column by column. */
function expectedCsvFields(record: RecordJson): string[] {
  return EXPORT_COLUMNS.map((column) => String(record[column.field]));
}

describe.each(backends)('billing records API on %s', (backend) => {
  let world: ApiWorld;
  let tenantA: ApiWorld['tenantA'];
  let tenantB: ApiWorld['tenantB'];
  /** The second system of tenant A: 5x8, 1 vCPU, 1 GB, no storage. */
  let systemA2: { id: number; code: string };

  async function getJson(caller: Caller, url: string) {
    const response = await world.request(caller, 'GET', url);
    expect(response.statusCode, response.body).toBe(200);
    return response.json();
  }

  async function listAll(caller: Caller, query: string): Promise<RecordJson[]> {
    const body = await getJson(caller, `/api/billing-records/?page_size=1000&${query}`);
    expect(body.next).toBeNull();
    return body.results;
  }

  const summaryOf = (rows: RecordJson[]) =>
    rows.map((row) => `${row.billing_date} ${String(row.information_system_code)} ${row.amount}`).sort();

  beforeAll(async () => {
    world = await createApiWorld(backend);
    ({ tenantA, tenantB } = world);
    const db = world.database.db;

    // Tenant A: system A1 (7x24, 2 vCPU, 4 GB, 50 GB) bills 21.60 a day at list price,
    // and A2 bills 1.20. Tenant B's system (5x8, 1 vCPU, 2 GB, 20 GB) bills 3.20.
    const a2 = await createSystem(db, {
      at: beijing('2026-01-01T09:00:00'),
      runMode: '5x8',
      cpu: 1,
      memory: '1',
      storage: '0',
      tenantCode: tenantA.code,
    });
    systemA2 = { id: a2.system.id, code: a2.system.code };

    // Tenant A pays 88.75 % from 2026-02-01: A1 19.17 a day, A2 1.065 rounded half-up to 1.07.
    await setTenantDiscount(
      db,
      { code: tenantA.code, discount_rate: '0.8875' },
      { timezone: ZONE, now: beijing('2026-01-31T10:00:00') },
    );
    for (const day of DAYS) await billDay(db, day, { timezone: ZONE, chunkSize: 2 });
  });

  afterAll(async () => {
    await world?.close();
  });

  it('lists every record newest day first', async () => {
    const rows = await listAll('admin', '');

    expect(rows).toHaveLength(12);
    expect(summaryOf(rows)).toEqual(
      [
        ...['2026-01-30', '2026-01-31'].flatMap((day) => [
          `${day} ${tenantA.systemCode} 21.60`,
          `${day} ${systemA2.code} 1.20`,
          `${day} ${tenantB.systemCode} 3.20`,
        ]),
        ...['2026-02-01', '2026-02-02'].flatMap((day) => [
          `${day} ${tenantA.systemCode} 19.17`,
          `${day} ${systemA2.code} 1.07`,
          `${day} ${tenantB.systemCode} 3.20`,
        ]),
      ].sort(),
    );
    expect(rows.map((row) => row.billing_date)).toEqual(
      [...DAYS].reverse().flatMap((day) => [day, day, day]),
    );
    for (let index = 1; index < rows.length; index += 1) {
      if (rows[index]!.billing_date === rows[index - 1]!.billing_date) {
        expect(rows[index]!.id).toBeGreaterThan(rows[index - 1]!.id);
      }
    }
  });

  it('returns the fields of one record', async () => {
    const [record] = await listAll(
      'admin',
      `information_system=${systemA2.id}&billing_date_after=2026-02-01`,
    );

    expect(record).toMatchObject({
      information_system: systemA2.id,
      information_system_code: systemA2.code,
      tenant: tenantA.id,
      tenant_code: tenantA.code,
      billing_date: '2026-02-02',
      run_mode: '5x8',
      billed_hours: 8,
      cpu: 1,
      currency: 'CNY',
    });
    expect(record!.discount_rate).toBe('0.8875');
    expect(record!.amount).toBe('1.07');
    expect(record!.gross_amount).toMatch(/^1\.20*$/);

    const detail = await getJson('admin', `/api/billing-records/${record!.id}/`);
    expect(detail).toEqual(record);
  });

  it('orders by amount, id and billing date', async () => {
    const byAmount = await listAll('admin', 'ordering=amount');
    const amounts = ['1.07', '1.07', '1.20', '1.20', '3.20', '3.20', '3.20', '3.20', '19.17', '19.17'];
    expect(byAmount.map((row) => row.amount)).toEqual([...amounts, '21.60', '21.60']);

    const byAmountDescending = await listAll('admin', 'ordering=-amount');
    expect(byAmountDescending.map((row) => row.amount)).toEqual(['21.60', '21.60', ...amounts.reverse()]);

    const byId = await listAll('admin', 'ordering=id');
    const ids = byId.map((row) => row.id);
    expect(ids).toEqual([...ids].sort((left, right) => left - right));

    const byDate = await listAll('admin', 'ordering=billing_date');
    expect(byDate.map((row) => row.billing_date)).toEqual(DAYS.flatMap((day) => [day, day, day]));
  });

  it('filters by tenant, system, dates, run mode', async () => {
    const ofTenantA = await listAll('admin', `tenant=${tenantA.id}`);
    expect(ofTenantA).toHaveLength(8);
    expect(ofTenantA.every((row) => row.tenant === tenantA.id)).toBe(true);

    const ofSystemB = await listAll('admin', `information_system=${tenantB.systemId}`);
    expect(ofSystemB.map((row) => row.amount)).toEqual(['3.20', '3.20', '3.20', '3.20']);

    const range = await listAll('admin', 'billing_date_after=2026-01-31&billing_date_before=2026-02-01');
    expect(range.map((row) => row.billing_date).sort()).toEqual([
      '2026-01-31',
      '2026-01-31',
      '2026-01-31',
      '2026-02-01',
      '2026-02-01',
      '2026-02-01',
    ]);

    const oneDay = await listAll('admin', 'billing_date_after=2026-02-02&billing_date_before=2026-02-02');
    expect(oneDay).toHaveLength(3);

    const fiveByEight = await listAll('admin', 'run_mode=5x8');
    expect(fiveByEight).toHaveLength(8);
    expect(fiveByEight.every((row) => row.run_mode === '5x8')).toBe(true);

    const combined = await listAll(
      'admin',
      `tenant=${tenantA.id}&run_mode=5x8&billing_date_after=2026-02-01&ordering=billing_date`,
    );
    expect(summaryOf(combined)).toEqual([
      `2026-02-01 ${systemA2.code} 1.07`,
      `2026-02-02 ${systemA2.code} 1.07`,
    ]);

    const none = await listAll('admin', 'billing_date_before=2026-01-29');
    expect(none).toEqual([]);
  });

  it('paginates with exact pages and links', async () => {
    const all = await listAll('admin', 'ordering=id');
    const first = await getJson('admin', '/api/billing-records/?ordering=id&page_size=5');
    const second = await getJson('admin', '/api/billing-records/?ordering=id&page_size=5&page=2');
    const third = await getJson('admin', '/api/billing-records/?ordering=id&page_size=5&page=3');

    expect(first.count).toBe(12);
    expect(first.previous).toBeNull();
    expect(first.next).toBe('http://localhost/api/billing-records/?ordering=id&page_size=5&page=2');
    expect(second.previous).toBe('http://localhost/api/billing-records/?ordering=id&page_size=5');
    expect(third.next).toBeNull();
    expect(third.results).toHaveLength(2);
    expect([...first.results, ...second.results, ...third.results]).toEqual(all);
  });

  it('pages one system’s records with their count', async () => {
    const base = `/api/information-systems/${tenantA.systemId}/billing_records/`;

    const first = await getJson('admin', `${base}?page_size=3`);
    expect(first.count).toBe(4);
    expect(first.results.map((row: RecordJson) => row.billing_date)).toEqual([
      '2026-02-02',
      '2026-02-01',
      '2026-01-31',
    ]);
    expect(first.next).toBe(`http://localhost${base}?page_size=3&page=2`);
    expect(first.previous).toBeNull();

    const second = await getJson('admin', `${base}?page_size=3&page=2`);
    expect(second.count).toBe(4);
    expect(second.results.map((row: RecordJson) => row.billing_date)).toEqual(['2026-01-30']);
    expect(second.next).toBeNull();

    const beyond = await getJson('admin', `${base}?page_size=3&page=5`);
    expect(beyond.count).toBe(4);
    expect(beyond.results).toEqual([]);

    const dated = await getJson(
      'admin',
      `${base}?billing_date_after=2026-01-31&billing_date_before=2026-02-01`,
    );
    expect(dated.count).toBe(2);
    expect(dated.results.map((row: RecordJson) => row.amount)).toEqual(['19.17', '21.60']);

    const fromOnly = await getJson('admin', `${base}?billing_date_after=2026-02-01`);
    expect(fromOnly.results.map((row: RecordJson) => row.billing_date)).toEqual(['2026-02-02', '2026-02-01']);
    const toOnly = await getJson('admin', `${base}?billing_date_before=2026-01-30`);
    expect(toOnly.results.map((row: RecordJson) => row.billing_date)).toEqual(['2026-01-30']);
  });

  it('shows a system’s latest records and month to date', async () => {
    const body = await getJson(
      'tenant_viewer',
      `/api/information-systems/${tenantA.systemId}/detailed_info/`,
    );
    const today = dayOf(new Date(), ZONE);
    const monthStart = `${today.slice(0, 8)}01`;
    const yesterday = addDays(today, -1);

    expect(body.system.id).toBe(tenantA.systemId);
    expect(body.tenant.id).toBe(tenantA.id);
    expect(body.billing_records.map((row: RecordJson) => row.billing_date)).toEqual([...DAYS].reverse());
    // The records are of January and February 2026, before this month.
    expect(body.month_to_date_amount).toBe('0.00');
    expect(body.month_to_date).toEqual({ from: monthStart, to: yesterday >= monthStart ? yesterday : null });
  });

  it('hides another tenant’s system records as 404', async () => {
    const own = `/api/information-systems/${tenantA.systemId}/billing_records/`;
    const other = `/api/information-systems/${tenantB.systemId}/billing_records/`;

    expect((await getJson('tenant_viewer', `${own}?page_size=1`)).count).toBe(4);
    expect((await world.request('tenant_viewer', 'GET', other)).statusCode).toBe(404);
    expect((await world.request('tenant_viewer', 'GET', `${other}?page=9`)).statusCode).toBe(404);
    expect(
      (await world.request('tenant_viewer', 'GET', `${other}?billing_date_after=2026-02-30`)).statusCode,
    ).toBe(404);
    expect(
      (await world.request('tenant_viewer', 'GET', `${own}?billing_date_after=2026-02-30`)).statusCode,
    ).toBe(400);
    expect(
      (await world.request('admin', 'GET', '/api/information-systems/999999/billing_records/')).statusCode,
    ).toBe(404);
  });

  it('summarizes per tenant with exact sums', async () => {
    const body = await getJson('admin', '/api/billing-records/summary/?group_by=tenant');

    expect(body.group_by).toBe('tenant');
    expect(body.count).toBe(2);
    expect(body.results).toEqual([
      {
        tenant: tenantA.id,
        tenant_code: tenantA.code,
        tenant_name: expect.any(String),
        record_count: 8,
        gross_amount: expect.stringMatching(/^91\.20*$/),
        amount: '86.08',
      },
      {
        tenant: tenantB.id,
        tenant_code: tenantB.code,
        tenant_name: expect.any(String),
        record_count: 4,
        gross_amount: expect.stringMatching(/^12\.80*$/),
        amount: '12.80',
      },
    ]);
    expect(body.total).toEqual({
      record_count: 12,
      gross_amount: expect.stringMatching(/^104\.00*$/),
      amount: '98.88',
    });
  });

  it('summarizes per system by amount', async () => {
    const body = await getJson(
      'admin',
      '/api/billing-records/summary/?group_by=information_system&ordering=-amount',
    );

    expect(
      body.results.map((row: Record<string, unknown>) => [
        row.information_system_code,
        row.tenant_code,
        row.record_count,
        row.amount,
      ]),
    ).toEqual([
      [tenantA.systemCode, tenantA.code, 4, '81.54'],
      [tenantB.systemCode, tenantB.code, 4, '12.80'],
      [systemA2.code, tenantA.code, 4, '4.54'],
    ]);
    expect(body.results[0]).not.toHaveProperty('month');

    const byGross = await getJson(
      'admin',
      '/api/billing-records/summary/?group_by=information_system&ordering=gross_amount',
    );
    expect(byGross.results.map((row: Record<string, unknown>) => row.information_system)).toEqual([
      systemA2.id,
      tenantB.systemId,
      tenantA.systemId,
    ]);
  });

  it('summarizes per billing month', async () => {
    const body = await getJson('admin', '/api/billing-records/summary/?group_by=month');
    expect(body.results).toEqual([
      {
        month: '2026-01',
        record_count: 6,
        gross_amount: expect.stringMatching(/^52\.00*$/),
        amount: '52.00',
      },
      {
        month: '2026-02',
        record_count: 6,
        gross_amount: expect.stringMatching(/^52\.00*$/),
        amount: '46.88',
      },
    ]);

    const ofTenantA = await getJson(
      'admin',
      `/api/billing-records/summary/?group_by=month&tenant=${tenantA.id}&billing_date_after=2026-01-31&ordering=-key`,
    );
    expect(ofTenantA.results.map((row: Record<string, unknown>) => [row.month, row.amount])).toEqual([
      ['2026-02', '40.48'],
      ['2026-01', '22.80'],
    ]);
    expect(ofTenantA.total.amount).toBe('63.28');
  });

  it('paginates summaries, sums empty to zero', async () => {
    const first = await getJson(
      'admin',
      '/api/billing-records/summary/?group_by=information_system&page_size=2',
    );
    expect(first.count).toBe(3);
    expect(first.results).toHaveLength(2);
    expect(first.next).toContain('page=2');
    expect(first.total.amount).toBe('98.88');

    const empty = await getJson(
      'admin',
      '/api/billing-records/summary/?group_by=tenant&billing_date_after=2027-01-01',
    );
    expect(empty.count).toBe(0);
    expect(empty.results).toEqual([]);
    expect(empty.total).toEqual({ record_count: 0, gross_amount: '0.00', amount: '0.00' });
  });

  it('exports CSV matching the list', async () => {
    const query = `tenant=${tenantA.id}&billing_date_after=2026-01-31&ordering=-amount`;
    const listed = await listAll('admin', query);
    const response = await world.request('admin', 'GET', `/api/billing-records/export/?format=csv&${query}`);

    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(response.headers['content-disposition']).toBe(
      'attachment; filename="billing-records_from-2026-01-31.csv"',
    );
    expect([...response.rawPayload.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);

    const [header, ...rows] = await parseCsv(response.rawPayload.subarray(3).toString('utf8'));
    expect(header).toEqual(EXPORT_COLUMNS.map((column) => column.header));
    expect(header).toContain('应付金额 元 / amount');
    expect(rows).toEqual(listed.map(expectedCsvFields));
    expect(rows.map((row) => row[header!.indexOf('应付金额 元 / amount')])).toEqual([
      '21.60',
      '19.17',
      '19.17',
      '1.20',
      '1.07',
      '1.07',
    ]);
  });

  it('exports all records as CSV by default', async () => {
    const listed = await listAll('admin', '');
    const response = await world.request('admin', 'GET', '/api/billing-records/export/');

    expect(response.headers['content-disposition']).toBe('attachment; filename="billing-records.csv"');
    const [, ...rows] = await parseCsv(response.rawPayload.subarray(3).toString('utf8'));
    expect(rows).toEqual(listed.map(expectedCsvFields));
  });

  it('exports XLSX matching the list', async () => {
    const query = 'billing_date_after=2026-01-30&billing_date_before=2026-02-01&ordering=billing_date';
    const listed = await listAll('admin', query);
    const response = await world.request('admin', 'GET', `/api/billing-records/export/?format=xlsx&${query}`);

    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe(
      'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    );
    expect(response.headers['content-disposition']).toBe(
      'attachment; filename="billing-records_2026-01-30_2026-02-01.xlsx"',
    );

    const [header, ...rows] = await readXlsx(response.rawPayload);
    expect(header).toEqual(EXPORT_COLUMNS.map((column) => column.header));
    expect(rows).toHaveLength(listed.length);
    rows.forEach((row, index) => {
      const record = listed[index]!;
      EXPORT_COLUMNS.forEach((column, position) => {
        const cell = row[position];
        const expected = record[column.field];
        if (column.kind === 'date') expect((cell as Date).toISOString().slice(0, 10)).toBe(expected);
        else if (column.kind === 'decimal') {
          expect(typeof cell).toBe('number');
          // The number must read back as the same decimal, digit for digit.
          expect(new Decimal(cell as number).eq(expected as string), column.field).toBe(true);
        } else if (column.kind === 'integer') expect(cell).toBe(Number(expected));
        else expect(cell).toBe(expected);
      });
    });
    const amounts = rows.map((row) => row[EXPORT_COLUMNS.findIndex((column) => column.field === 'amount')]);
    expect(amounts).toEqual(listed.map((record) => Number(record.amount)));
  });

  it('reads keyset batches in list order', async () => {
    const records = new BillingRecordRepository(world.database.db);
    for (const ordering of ['billing_date', '-billing_date', 'amount', '-amount', 'id', '-id']) {
      const listed = await listAll('admin', `ordering=${ordering}`);
      const descending = ordering.startsWith('-');
      const orderBy = (descending ? ordering.slice(1) : ordering) as 'billing_date' | 'amount' | 'id';
      const exported: number[] = [];
      // Batches of 5 split the ties on amount and date across batches.
      const batches = readBatches(
        records,
        { scope: null },
        { orderBy, direction: descending ? 'desc' : 'asc' },
        5,
      );
      for await (const batch of batches) exported.push(...batch.map((row) => row.id));
      expect(exported, ordering).toEqual(listed.map((row) => row.id));
    }
  });

  it('rejects bad filters with 400', async () => {
    const cases: [string, string, string?][] = [
      ['/api/billing-records/?billing_date_after=2026-02-30', 'invalid_date', 'billing_date_after'],
      ['/api/billing-records/?billing_date_before=yesterday', 'invalid_date', 'billing_date_before'],
      [
        '/api/billing-records/?billing_date_after=2026-02-02&billing_date_before=2026-02-01',
        'invalid_date_range',
        'billing_date_after',
      ],
      ['/api/billing-records/summary/?group_by=day', 'validation_failed'],
      ['/api/billing-records/summary/', 'validation_failed'],
      ['/api/billing-records/summary/?group_by=month&billing_date_after=2026-13-01', 'invalid_date'],
      ['/api/billing-records/export/?format=pdf', 'validation_failed'],
      [
        '/api/billing-records/export/?billing_date_after=2026-02-02&billing_date_before=2026-01-01',
        'invalid_date_range',
      ],
      ['/api/billing-records/?ordering=tenant', 'validation_failed'],
      ['/api/billing-records/?tenant=abc', 'validation_failed'],
      ['/api/billing-records/?run_mode=24x7', 'validation_failed'],
      ['/api/billing-records/?page_size=0', 'validation_failed'],
      ['/api/billing-records/0/', 'validation_failed'],
    ];
    for (const [url, code, field] of cases) {
      const response = await world.request('admin', 'GET', url, undefined, { 'accept-language': 'en' });
      expect(response.statusCode, url).toBe(400);
      expect(response.json().code, url).toBe(code);
      if (field) expect(response.json().details, url).toEqual([expect.objectContaining({ field, code })]);
    }

    const chinese = await world.request(
      'admin',
      'GET',
      '/api/billing-records/?billing_date_after=2026-02-30',
    );
    expect(chinese.json().message).toContain('日期 "2026-02-30" 无效');
  });

  it('shows tenant users only their own tenant', async () => {
    for (const caller of ['tenant_viewer', 'tenant_admin'] as const) {
      const own = await listAll(caller, '');
      expect(own).toHaveLength(8);
      expect(own.every((row) => row.tenant === tenantA.id)).toBe(true);
      expect(await listAll(caller, `tenant=${tenantB.id}`)).toEqual([]);
      expect(await listAll(caller, `information_system=${tenantB.systemId}`)).toEqual([]);
    }

    const ofOther = await listAll('other_admin', '');
    expect(ofOther.map((row) => row.amount)).toEqual(['3.20', '3.20', '3.20', '3.20']);

    const recordOfB = ofOther[0]!;
    const hidden = await world.request('tenant_viewer', 'GET', `/api/billing-records/${recordOfB.id}/`);
    expect(hidden.statusCode).toBe(404);
    expect(hidden.json().code).toBe('object_not_found');
    const missing = await world.request('admin', 'GET', '/api/billing-records/999999/');
    expect(missing.statusCode).toBe(404);

    const summary = await getJson('tenant_viewer', '/api/billing-records/summary/?group_by=tenant');
    expect(summary.results.map((row: Record<string, unknown>) => row.tenant)).toEqual([tenantA.id]);
    expect(summary.total.amount).toBe('86.08');

    const csv = await world.request('tenant_viewer', 'GET', '/api/billing-records/export/?format=csv');
    const [header, ...rows] = await parseCsv(csv.rawPayload.subarray(3).toString('utf8'));
    const tenantColumn = header!.indexOf('租户编码 / tenant_code');
    expect(rows).toHaveLength(8);
    expect(rows.every((row) => row[tenantColumn] === tenantA.code)).toBe(true);

    const xlsx = await world.request('tenant_viewer', 'GET', '/api/billing-records/export/?format=xlsx');
    const [, ...sheetRows] = await readXlsx(xlsx.rawPayload);
    expect(sheetRows).toHaveLength(8);
  });

  it('requires authentication', async () => {
    for (const url of [
      '/api/billing-records/',
      '/api/billing-records/summary/?group_by=tenant',
      '/api/billing-records/export/',
    ]) {
      const response = await world.request('anonymous', 'GET', url);
      expect(response.statusCode, url).toBe(401);
    }
  });

  it('rejects an export over the row limit', async () => {
    // A second app with the same database and a limit of 5 rows.
    const app = Fastify({
      ajv: { customOptions: { coerceTypes: 'array', removeAdditional: false, allErrors: true } },
    }).withTypeProvider<TypeBoxTypeProvider>();
    app.decorate('deps', world.app.deps);
    app.setErrorHandler(handleError);
    app.addSchema(ErrorResponse);
    await app.register(authPlugin, { database: world.database });
    await app.register(billingRecordRoutes, { prefix: '/api/billing-records', maxExportRows: 5 });
    const headers = { authorization: `Bearer ${world.tokens.admin}`, 'accept-language': 'en' };

    try {
      const tooMany = await app.inject({ method: 'GET', url: '/api/billing-records/export/', headers });
      expect(tooMany.statusCode).toBe(400);
      expect(tooMany.json().code).toBe('export_too_large');
      expect(tooMany.json().message).toContain('the export has 12 records, more than the maximum of 5');

      const narrowed = await app.inject({
        method: 'GET',
        url: `/api/billing-records/export/?information_system=${tenantB.systemId}`,
        headers,
      });
      expect(narrowed.statusCode).toBe(200);
    } finally {
      await app.close();
    }
  });

  it('quotes CSV fields and defuses formulas', async () => {
    await world.request('admin', 'PATCH', `/api/information-systems/${systemA2.id}/`, { name: '=1+2, "A2"' });
    const response = await world.request(
      'admin',
      'GET',
      `/api/billing-records/export/?information_system=${systemA2.id}`,
    );
    const text = response.rawPayload.subarray(3).toString('utf8');
    expect(text).toContain(`,"'=1+2, ""A2""",`);

    const [header, ...rows] = await parseCsv(text);
    expect(rows[0]![header!.indexOf('信息系统名称 / information_system_name')]).toBe(`'=1+2, "A2"`);
  });
});

describe('XLSX decimal cells', () => {
  it('stores up to 15 significant digits as numbers', () => {
    expect(decimalCell('21.60')).toBe(21.6);
    expect(decimalCell('0.000001')).toBe(0.000001);
    expect(decimalCell('1234567890123.45')).toBe(1234567890123.45);
    expect(decimalCell('0')).toBe(0);
  });

  it('keeps longer decimals as text', () => {
    expect(decimalCell('12345678901234.56')).toBe('12345678901234.56');
    expect(decimalCell('1.0000000000000001')).toBe('1.0000000000000001');
  });
});
