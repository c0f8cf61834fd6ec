// "What fine-tuning moved": per tensor, how far each member went from the zero-shot weights
// relative to their size, and whether the two end-to-end seeds went the same way. Collapsed until
// opened: the report reads every member's checkpoint.
import { useMemo } from 'react';
import { ResponsiveContainer, BarChart, Bar, XAxis, YAxis, Tooltip, CartesianGrid } from 'recharts';
import { useStore } from '../state/store';
import { useActions } from './actions';
import type { MovedResult, MovedRow } from '../worker/protocol';
import {
  formatChange,
  formatShape,
  formatSignificant,
  sameSortKey,
  sortRows,
  type MovedSort,
  type MovedSortKey,
} from '../core/moved/table';

export function MovedPanel() {
  const open = useStore((s) => s.movedOpen);
  const { toggleMoved } = useActions();
  return (
    <section className="moved" aria-label="What fine-tuning moved" data-testid="moved-panel">
      <div className="moved-head">
        <h2>
          <button type="button" className="linkish" aria-expanded={open} onClick={toggleMoved} data-testid="moved-toggle">
            {open ? '▾' : '▸'} What fine-tuning moved
          </button>
        </h2>
        <p className="muted small">Per tensor: ‖θ₁ − θ₀‖ / ‖θ₀‖ for each fine-tuned member, and whether two seeds moved the same way.</p>
      </div>
      {open && <MovedBody />}
    </section>
  );
}

function MovedBody() {
  const moved = useStore((s) => s.moved);
  if (moved.status === 'none') return <p className="muted small">Load a pair first.</p>;
  if (moved.status === 'computing')
    return (
      <p className="muted small" role="status">
        Comparing every member with the zero-shot model (the other members' checkpoints are read once)…
      </p>
    );
  if (moved.status === 'failed') return <p role="alert">Could not compare the members: {moved.error}</p>;
  return <MovedReportView report={moved.report} />;
}

function MovedReportView({ report }: { report: MovedResult }) {
  const sort = useStore((s) => s.movedSort);
  const tensor = useStore((s) => s.movedTensor);
  const rows = useMemo(() => sortRows(report, sort), [report, sort]);
  const selected = report.rows.find((r) => r.name === tensor) ?? null;
  return (
    <>
      <OverallSummary report={report} />
      <div className="moved-layout">
        <div className="moved-table-wrap">
          <MovedTable report={report} rows={rows} sort={sort} selected={tensor} />
        </div>
        {selected && <TensorHistograms report={report} row={selected} />}
      </div>
    </>
  );
}

function OverallSummary({ report }: { report: MovedResult }) {
  const { overall, compared, members } = report;
  return (
    <p className="small" data-testid="moved-overall">
      All {overall.params.toLocaleString('en')} weights:{' '}
      {members.map((m, k) => `${m.name} ${formatSignificant(overall.relativeChange[k] ?? null)}`).join(' · ')}
      {compared &&
        ` · cosine between the deltas of ${members[compared[0]]!.id} and ${members[compared[1]]!.id}: ${formatSignificant(overall.cosine)}`}
      . The whole-model ratio weighs each tensor by ‖θ₀‖², so the tensors with the largest weights dominate it.
    </p>
  );
}

function SortHeader({ label, sortKey, sort, title }: { label: string; sortKey: MovedSortKey; sort: MovedSort; title?: string }) {
  const { sortMoved } = useActions();
  const active = sameSortKey(sort.key, sortKey);
  return (
    <th scope="col" aria-sort={active ? (sort.descending ? 'descending' : 'ascending') : 'none'} title={title}>
      <button
        type="button"
        className="linkish"
        onClick={() => sortMoved(sortKey)}
        data-sort={typeof sortKey === 'object' ? `member-${sortKey.member}` : sortKey}
      >
        {label}
        {active ? (sort.descending ? ' ↓' : ' ↑') : ''}
      </button>
    </th>
  );
}

function MovedTable({ report, rows, sort, selected }: { report: MovedResult; rows: MovedRow[]; sort: MovedSort; selected: string | null }) {
  const { selectMovedTensor } = useActions();
  const { members, compared } = report;
  return (
    <table className="acc-table moved-table" data-testid="moved-table">
      <caption>
        ‖θ − θ₀‖ / ‖θ₀‖ per member ({members.map((m) => `${m.id}: ${m.name}`).join('; ')}), 3 significant digits; where θ₀ is all zeros the
        ratio is undefined and ‖Δ‖ is shown. Click a column to sort, a row for its histograms.
      </caption>
      <thead>
        <tr>
          <SortHeader label="#" sortKey="order" sort={sort} title="model order" />
          <SortHeader label="tensor" sortKey="name" sort={sort} />
          <SortHeader label="group" sortKey="group" sort={sort} title="layer: the name without its last part" />
          <th scope="col">shape</th>
          <SortHeader label="#params" sortKey="params" sort={sort} />
          {members.map((m, k) => (
            <SortHeader key={m.id} label={m.id} sortKey={{ member: k }} sort={sort} title={`‖θ − θ₀‖ / ‖θ₀‖ of ${m.name}`} />
          ))}
          {compared && (
            <SortHeader label={`cos(Δ ${members[compared[0]]!.id}, Δ ${members[compared[1]]!.id})`} sortKey="cosine" sort={sort} />
          )}
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <MovedTableRow key={r.name} report={report} row={r} selected={r.name === selected} onSelect={selectMovedTensor} />
        ))}
      </tbody>
    </table>
  );
}

function MovedTableRow(props: { report: MovedResult; row: MovedRow; selected: boolean; onSelect: (name: string | null) => void }) {
  const { report, row, selected, onSelect } = props;
  return (
    <tr className={selected ? 'selected' : undefined} aria-selected={selected} data-testid="moved-row" data-tensor={row.name}>
      <td>{report.rows.indexOf(row) + 1}</td>
      <th scope="row">
        <button type="button" className="linkish" onClick={() => onSelect(selected ? null : row.name)}>
          {row.name}
        </button>
      </th>
      <td>{row.group}</td>
      <td>{formatShape(row.shape)}</td>
      <td className="num">{row.params.toLocaleString('en')}</td>
      {row.relativeChange.map((_, k) => (
        <td key={k} className="num">
          {formatChange(row, k)}
        </td>
      ))}
      {report.compared && <td className="num">{formatSignificant(row.cosine)}</td>}
    </tr>
  );
}

function TensorHistograms({ report, row }: { report: MovedResult; row: MovedRow }) {
  return (
    <section className="moved-histograms" aria-label={`How ${row.name} changed`} data-testid="moved-histogram">
      <h3>
        {row.name}{' '}
        <span className="muted small">
          ({formatShape(row.shape)}, ‖θ₀‖ = {formatSignificant(row.zeroShotNorm)})
        </span>
      </h3>
      <div className="moved-histogram-list">
        {report.members.map((m, k) => (
          <MemberHistogram key={m.id} name={m.name} row={row} member={k} />
        ))}
      </div>
    </section>
  );
}

function MemberHistogram({ name, row, member }: { name: string; row: MovedRow; member: number }) {
  const h = row.histograms[member]!;
  const data = useMemo(() => {
    const width = (2 * h.limit) / h.counts.length;
    return h.counts.map((count, b) => ({ center: -h.limit + (b + 0.5) * width, count }));
  }, [h]);
  return (
    <figure className="moved-histogram">
      <figcaption className="small">
        {name}: θ₁ − θ₀ of {row.params.toLocaleString('en')} weights,{' '}
        {h.limit === 0 ? 'all unchanged' : `${h.counts.length} bins over ±${formatSignificant(h.limit)}`}
      </figcaption>
      {/* Nothing to draw: 41 bins over ±0 would be one bar on a scale of zeros. */}
      {h.limit > 0 && <HistogramChart data={data} />}
    </figure>
  );
}

function HistogramChart({ data }: { data: { center: number; count: number }[] }) {
  return (
    <ResponsiveContainer width="100%" height={130}>
      <BarChart data={data} margin={{ top: 4, right: 16, bottom: 0, left: 0 }} barCategoryGap={0}>
        <CartesianGrid stroke="#e2e8f0" vertical={false} />
        <XAxis dataKey="center" tickFormatter={(v: number) => formatSignificant(v, 2)} interval={9} fontSize={11} />
        <YAxis width={44} fontSize={11} allowDecimals={false} />
        <Tooltip
          formatter={(v) => [String(v), 'weights']}
          labelFormatter={(c) => `Δ ≈ ${formatSignificant(Number(c))}`}
          isAnimationActive={false}
        />
        <Bar dataKey="count" fill="#6366f1" isAnimationActive={false} />
      </BarChart>
    </ResponsiveContainer>
  );
}
