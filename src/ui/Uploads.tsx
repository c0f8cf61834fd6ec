import { useMemo } from 'react';
import { ResponsiveContainer, LineChart, Line, XAxis, YAxis, ReferenceLine, Tooltip } from 'recharts';
import { useStore, type Upload } from '../state/store';
import { useActions } from './actions';
import { UserText } from './UserText';
import { CustomLabels } from './CustomLabels';
import { FilePicker } from './FilePicker';

const LINE_COLORS = ['#7c3aed', '#c2410c', '#2563eb', '#0d9488'];

function topK(probs: number[], k: number): number[] {
  return probs
    .map((p, i) => [p, i] as const)
    .sort((a, b) => b[0] - a[0])
    .slice(0, k)
    .map(([, i]) => i);
}

/** The classes that lead anywhere along α (where the prediction flips is what to see), at most four,
 * and each α's probabilities of them in percent. */
function trajectoryRows(t: NonNullable<Upload['trajectory']>) {
  const leaders = new Set<number>();
  for (const p of t) leaders.add(topK(p.probs, 1)[0]!);
  for (const i of topK(t[0]!.probs, 2)) leaders.add(i);
  for (const i of topK(t[t.length - 1]!.probs, 2)) leaders.add(i);
  const classes = [...leaders].slice(0, 4);
  return { classes, rows: t.map((p) => ({ alpha: p.alpha, ...Object.fromEntries(classes.map((c) => [`c${c}`, p.probs[c]! * 100])) })) };
}

function Trajectory({ upload, alpha }: { upload: Upload; alpha: number }) {
  const data = useMemo(() => {
    const t = upload.trajectory;
    return t && t.length > 0 ? trajectoryRows(t) : null;
  }, [upload.trajectory]);
  if (!data) return <div className="muted small">computing α trajectory…</div>;
  return (
    <div className="trajectory" aria-label={`Probability of the leading classes as α goes from 0 to 1 for ${upload.name}`}>
      <ResponsiveContainer width="100%" height={110}>
        <LineChart data={data.rows} margin={{ top: 4, right: 8, bottom: 0, left: -18 }}>
          <XAxis dataKey="alpha" type="number" domain={[0, 1]} ticks={[0, 0.5, 1]} tick={{ fontSize: 10 }} />
          <YAxis domain={[0, 100]} ticks={[0, 50, 100]} tick={{ fontSize: 10 }} />
          <Tooltip formatter={(v: unknown) => `${Number(v).toFixed(1)}%`} labelFormatter={(a: unknown) => `α = ${Number(a).toFixed(2)}`} />
          <ReferenceLine x={alpha} stroke="#be185d" />
          {data.classes.map((c, i) => (
            <Line
              key={c}
              dataKey={`c${c}`}
              name={upload.labels[c] ?? String(c)}
              stroke={LINE_COLORS[i]}
              dot={false}
              strokeWidth={2}
              isAnimationActive={false}
            />
          ))}
        </LineChart>
      </ResponsiveContainer>
      <div className="legend small">
        {data.classes.map((c, i) => (
          <span key={c} style={{ color: LINE_COLORS[i] }}>
            ■ <UserText text={upload.labels[c] ?? String(c)} />
          </span>
        ))}
      </div>
    </div>
  );
}

function UploadCard({ upload, alpha }: { upload: Upload; alpha: number }) {
  return (
    <li className="upload-card" data-testid="upload-card" data-name={upload.name}>
      <UploadHead upload={upload} />
      {upload.status === 'error' && (
        <p className="error" role="alert">
          {upload.error}
        </p>
      )}
      {upload.status === 'decoding' && <p className="muted small">decoding…</p>}
      {upload.current && <TopClasses labels={upload.labels} current={upload.current} />}
      {upload.status === 'ready' && <Trajectory upload={upload} alpha={alpha} />}
    </li>
  );
}

function UploadHead({ upload }: { upload: Upload }) {
  const { removeUpload } = useActions();
  return (
    <div className="upload-head">
      {upload.thumbnail ? (
        <img src={upload.thumbnail} alt={`model input for ${upload.name}`} width={64} height={64} />
      ) : (
        <div className="thumb-empty" />
      )}
      <div className="upload-name">
        <UserText text={upload.name} />
      </div>
      <button type="button" className="icon" aria-label={`Remove ${upload.name}`} onClick={() => removeUpload(upload.id)}>
        ×
      </button>
    </div>
  );
}

/** The five likeliest classes at the α the image was last classified at. */
function TopClasses({ labels, current }: { labels: string[]; current: NonNullable<Upload['current']> }) {
  return (
    <ol className="top5" data-testid="top5" data-alpha={current.alpha.toFixed(2)}>
      {topK(current.probs, 5).map((c) => (
        <li key={c}>
          <span className="label">
            <UserText text={labels[c] ?? String(c)} />
          </span>
          <span className="bar">
            <span style={{ width: `${(current.probs[c]! * 100).toFixed(1)}%` }} />
          </span>
          <span className="num">{(current.probs[c]! * 100).toFixed(1)}%</span>
        </li>
      ))}
    </ol>
  );
}

function PickImages() {
  const { addUploads } = useActions();
  return (
    <FilePicker className="button" multiple accept="image/*" testId="image-input" onFiles={(files) => void addUploads(files)}>
      Pick images…
    </FilePicker>
  );
}

export function Uploads() {
  const uploads = useStore((s) => s.uploads);
  const alpha = useStore((s) => s.alpha);
  const pair = useStore((s) => s.pair);
  return (
    <section className="uploads" aria-label="Your images">
      <div className="uploads-head">
        <h2>Your images</h2>
        <p className="muted small">
          Drop, pick or paste images: each shows its top-5 classes at the current α and how its prediction moves along α. Images are decoded
          and classified in this page only; nothing is uploaded.
        </p>
        <PickImages />
      </div>
      {pair?.hasText && <CustomLabels pair={pair} />}
      <ul className="upload-list">
        {uploads.map((u) => (
          <UploadCard key={u.id} upload={u} alpha={alpha} />
        ))}
      </ul>
    </section>
  );
}
