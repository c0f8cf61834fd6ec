import { create, type StateCreator } from 'zustand';
import type { PairSummary, FrontierUpdate, EnsembleUpdate, Prediction } from '../core/explorer';
import type { SetAccuracy } from '../core/eval/frontier';
import type { LoadProgress } from '../core/bundle/source';
import type { RuntimeInfo } from '../worker/client';
import { parseHash, type HashState } from './hash';
import type { ImportedCurve } from './imported';
import { PAPER_CURVES } from '../data/paper/paper';

// The store in slices (zustand's recommended shape): each slice owns one concern; actions that
// talk to the Worker live in actions.ts, beside the store.

export interface PairSlice {
  pair: PairSummary | null;
  runtime: RuntimeInfo | null;
  loading: { label: string; progress: (LoadProgress & { elapsedMs: number }) | null; startedAt: number } | null;
  /** The last failure to load a pair, in words; the previous pair stays in use. */
  pairError: string | null;
  /** Why the member shown is not the one the link asked for (an id the bundle does not have). */
  memberNote: string | null;
}

export interface AlphaSlice {
  alpha: number;
  playing: boolean;
}

export interface FrontierSlice {
  /** Content hash of the pair the points belong to: updates for another pair are dropped. */
  pointsFor: string | null;
  points: Record<string, Record<string, SetAccuracy>>;
  ensemble: Record<string, Record<string, SetAccuracy>>;
  progress: { done: number; total: number; chunkSize: number } | null;
  evaluating: boolean;
  evalStartedAt: number | null;
  fullFrontierMs: number | null;
}

export interface ViewSlice {
  shift: string;
  showEnsemble: boolean;
  paper: string;
  presenter: boolean;
  pairUrl: string | null;
  backendChoice: HashState['backend'];
  /** The fine-tuned member in the URL: asked for by the link until a pair loads, then the one shown. */
  member: string | null;
  showRecorded: boolean;
}

export interface Upload {
  id: number;
  name: string;
  /** A data URL of the model's input crop, for the thumbnail (never uploaded anywhere). */
  thumbnail: string | null;
  rgb: Uint8Array | null;
  status: 'decoding' | 'ready' | 'error';
  error: string | null;
  /** Predictions along α (the trajectory), for the labels below. */
  trajectory: Prediction[] | null;
  current: Prediction | null;
  labels: string[];
  forPair: string | null;
}

export interface UploadSlice {
  uploads: Upload[];
  customLabels: string[] | null;
  labelError: string | null;
}

export interface ImportSlice {
  /** wise-ft results files plotted beside the live frontier. */
  imported: ImportedCurve[];
}

export interface MessageSlice {
  messages: { id: number; kind: 'error' | 'info'; text: string }[];
}

export type State = PairSlice & AlphaSlice & FrontierSlice & ViewSlice & UploadSlice & ImportSlice & MessageSlice;

const initialHash = typeof location !== 'undefined' ? parseHash(location.hash, location.search) : parseHash('');

// A paper= the app has no curve for (a typo, an old link) opens with no overlay, and the URL is
// rewritten without it at start (syncHash), with a note: a link must not keep claiming a view it
// does not show. (An unknown shift= is dropped the same way once the pair's sets are known.)
const paperIds = PAPER_CURVES.map((c) => c.id);
const initialPaper = initialHash.paper === 'none' || paperIds.includes(initialHash.paper) ? initialHash.paper : 'none';
/** What the opening link asked for that this app does not have, in words (said once the app starts). */
export const hashNotes: string[] = initialPaper === initialHash.paper ? [] : [
  `The link asks for a paper curve this app does not have (paper=${initialHash.paper.slice(0, 40)}; it has ${paperIds.join(', ')}): no overlay is shown.`,
];

const pairSlice: StateCreator<State, [], [], PairSlice> = () => ({ pair: null, runtime: null, loading: null, pairError: null, memberNote: null });
const alphaSlice: StateCreator<State, [], [], AlphaSlice> = () => ({ alpha: initialHash.alpha, playing: false });
const frontierSlice: StateCreator<State, [], [], FrontierSlice> = () => ({
  pointsFor: null, points: {}, ensemble: {}, progress: null, evaluating: false, evalStartedAt: null, fullFrontierMs: null,
});
const viewSlice: StateCreator<State, [], [], ViewSlice> = () => ({
  shift: initialHash.shift, showEnsemble: initialHash.ensemble, paper: initialPaper, presenter: initialHash.presenter,
  pairUrl: initialHash.pair, backendChoice: initialHash.backend, member: initialHash.member, showRecorded: initialHash.recorded,
});
const uploadSlice: StateCreator<State, [], [], UploadSlice> = () => ({ uploads: [], customLabels: null, labelError: null });
const importSlice: StateCreator<State, [], [], ImportSlice> = () => ({ imported: [] });
const messageSlice: StateCreator<State, [], [], MessageSlice> = () => ({ messages: [] });

export const useStore = create<State>()((...a) => ({
  ...pairSlice(...a),
  ...alphaSlice(...a),
  ...frontierSlice(...a),
  ...viewSlice(...a),
  ...uploadSlice(...a),
  ...importSlice(...a),
  ...messageSlice(...a),
}));

// Updates arrive once per chunk, faster than a chart can redraw on a small model: they are queued
// and applied together at most every 80 ms, so the page stays smooth while the Worker evaluates.
let pending: FrontierUpdate[] = [];
let flushTimer: ReturnType<typeof setTimeout> | null = null;

export function applyFrontierUpdate(u: FrontierUpdate): void {
  pending.push(u);
  flushTimer ??= setTimeout(flushFrontierUpdates, 80);
}

export function flushFrontierUpdates(): void {
  if (flushTimer) clearTimeout(flushTimer);
  flushTimer = null;
  const batch = pending;
  pending = [];
  if (batch.length === 0) return;
  useStore.setState((s) => {
    // Every update names its pair (and eval sets): anything for another one is stale and dropped.
    const mine = batch.filter((u) => u.pairHash === s.pair?.contentHash);
    if (mine.length === 0) return {};
    const points = { ...s.points };
    // Counts only grow for a given pair: an update that arrives late (after the final snapshot)
    // must not replace a fuller point with an older one.
    const seen = (p: Record<string, SetAccuracy> | undefined) => Object.values(p ?? {}).reduce((n, a) => n + a.n, 0);
    for (const u of mine) if (seen(u.point) >= seen(points[String(u.alpha)])) points[String(u.alpha)] = u.point;
    return { pointsFor: mine[0]!.pairHash, points, progress: mine[mine.length - 1]!.progress };
  });
}

export function applyEnsembleUpdate(u: EnsembleUpdate): void {
  useStore.setState((s) => (s.pair?.contentHash === u.pairHash ? { ensemble: u.points } : {}));
}

let messageId = 0;

/** A toast is read, not scrolled: longer text is cut (lists in messages are already cut by listSome). */
export const MAX_MESSAGE_CHARS = 600;

export function say(kind: 'error' | 'info', text: string): void {
  const id = ++messageId;
  const shown = text.length > MAX_MESSAGE_CHARS ? `${text.slice(0, MAX_MESSAGE_CHARS)}… (${(text.length - MAX_MESSAGE_CHARS).toLocaleString('en')} more characters)` : text;
  useStore.setState((s) => ({ messages: [...s.messages.slice(-3), { id, kind, text: shown }] }));
}
export function dismiss(id: number): void {
  useStore.setState((s) => ({ messages: s.messages.filter((m) => m.id !== id) }));
}
