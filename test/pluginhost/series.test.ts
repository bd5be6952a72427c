/** How a cloud service's answer merges into a sensor's time series. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sensorChanges } from '../../src/pluginhost/series.ts';

describe('merging answers into sensors', () => {
  const base = '/data/sensors/fitbit/jack';

  it('appends new measurements, replaces changed ones, leaves the same alone', () => {
    const existing = [
      { dateTime: '2026-11-01', value: 80.1 },
      { dateTime: '2026-11-02', value: 80 },
    ];
    const answer = {
      'body-weight': [
        { dateTime: '2026-11-01', value: '80.1' },
        { dateTime: '2026-11-02', value: '79.9' },
        { dateTime: '2026-11-03', value: '79.8' },
      ],
    };
    const { changes, counts } = sensorChanges(base, answer, (name: string) => (name === 'body-weight' ? existing : []));
    assert.deepEqual(changes, [
      { op: 'put', xpath: `${base}/body-weight[dateTime='2026-11-02']`, value: { dateTime: '2026-11-02', value: '79.9' } },
      { op: 'post', xpath: `${base}/body-weight`, value: { dateTime: '2026-11-03', value: '79.8' } },
    ]);
    assert.deepEqual(counts, { 'body-weight': 2 });
  });

  it('keys by the first key field an entry has, replaces plain values, skips empty lists', () => {
    const answer = {
      weight: [{ logId: 7, date: '2026-11-01', weight: 80 }],
      goals: [{ id: 'g1', date: '2026-11-01', points: 5 }],
      summary: { steps: 10 },
      activities: [],
    };
    const { changes } = sensorChanges(base, answer, (name: string) =>
      name === 'weight' ? [{ logId: 7, date: '2026-11-01', weight: 81 }] : [],
    );
    assert.deepEqual(changes, [
      { op: 'put', xpath: `${base}/weight[logId='7']`, value: { logId: 7, date: '2026-11-01', weight: 80 } },
      { op: 'post', xpath: `${base}/goals`, value: { id: 'g1', date: '2026-11-01', points: 5 } },
      { op: 'put', xpath: `${base}/summary`, value: { steps: 10 } },
    ]);
    const byDate = sensorChanges(base, { goals: [{ id: 'g1', date: '2026-11-01' }] }, () => [], ['date']);
    assert.equal(byDate.changes[0]!.op, 'post');
  });

  it('never puts an unsafe key into an XPath', () => {
    const { changes } = sensorChanges(base, { odd: [{ dateTime: "x'] | //secret | a['" }] }, () => []);
    assert.deepEqual(changes, [{ op: 'put', xpath: `${base}/odd`, value: [{ dateTime: "x'] | //secret | a['" }] }]);
  });
});
