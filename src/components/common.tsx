import { LabIcon } from '@jupyterlab/ui-components';
import * as React from 'react';
import { trans } from '../i18n';
import { detailLines, SrcStageError } from '../api';
import type { ChangeKind, SrcStageModel } from '../model';
import {
  breakParts,
  distinctCut,
  ELLIPSIS,
  IMiddleCut,
  shortId
} from '../text';
import { fraction } from '../units';

/** Re-render whenever the model (or one of the given parts of it) changes. */
export function useModel(model: SrcStageModel, kinds?: ChangeKind[]): number {
  const [version, setVersion] = React.useState(0);
  React.useEffect(() => {
    const onChange = (_: SrcStageModel, kind: ChangeKind) => {
      if (!kinds || kinds.includes(kind)) {
        setVersion(v => v + 1);
      }
    };
    model.changed.connect(onChange);
    return () => {
      model.changed.disconnect(onChange);
    };
  }, [model]);
  return version;
}

export interface ISectionProps {
  id: string;
  title: string;
  /** Short state shown next to the title (e.g. "2 active"). */
  badge?: React.ReactNode;
  /**
   * Show the badge while the section is open too (default). False for a
   * badge that only repeats what the open body shows: it then sums the
   * section up when collapsed, where the tools leave it room.
   */
  badgeWhenOpen?: boolean;
  /** Buttons on the right of the header. */
  tools?: React.ReactNode;
  defaultOpen?: boolean;
  children?: React.ReactNode;
}

/** A collapsible part of the sidebar with a real button as its header. */
export function Section(props: ISectionProps): JSX.Element {
  const [open, setOpen] = React.useState(props.defaultOpen ?? true);
  const bodyId = `jp-SrcStage-section-${props.id}`;
  return (
    <section
      className={`jp-SrcStage-section${open ? ' jp-mod-open' : ''}`}
      data-testid={`srcstage-section-${props.id}`}
      aria-labelledby={`${bodyId}-title`}
    >
      <div className="jp-SrcStage-sectionHeader">
        <button
          type="button"
          className="jp-SrcStage-sectionToggle"
          aria-expanded={open}
          aria-controls={bodyId}
          id={`${bodyId}-title`}
          onClick={() => setOpen(!open)}
        >
          <span className="jp-SrcStage-caret" aria-hidden="true">
            {open ? '▾' : '▸'}
          </span>
          <span className="jp-SrcStage-sectionTitle">{props.title}</span>
          {props.badge !== undefined &&
            props.badge !== null &&
            (!open || props.badgeWhenOpen !== false) && (
              <span
                className="jp-SrcStage-sectionBadge"
                title={
                  typeof props.badge === 'string' ? props.badge : undefined
                }
              >
                {props.badge}
              </span>
            )}
        </button>
        {open && props.tools && (
          <div className="jp-SrcStage-sectionTools">{props.tools}</div>
        )}
      </div>
      {open && (
        <div className="jp-SrcStage-sectionBody" id={bodyId}>
          {props.children}
        </div>
      )}
    </section>
  );
}

export interface IErrorBoxProps {
  error: SrcStageError | null | undefined;
  /** A heading such as "Could not stage". */
  title?: string;
  testid?: string;
  children?: React.ReactNode;
}

/** Our message, then the SRCNet detail verbatim; never a stack trace. */
export function ErrorBox(props: IErrorBoxProps): JSX.Element | null {
  const { error } = props;
  if (!error) {
    return null;
  }
  const lines = error.detailLines;
  return (
    <div
      className="jp-SrcStage-error"
      role="alert"
      data-testid={props.testid ?? 'srcstage-error'}
      data-code={error.code}
    >
      {props.title && (
        <div className="jp-SrcStage-errorTitle">{props.title}</div>
      )}
      <div className="jp-SrcStage-errorMessage">{error.message}</div>
      {lines.length > 0 && (
        <div className="jp-SrcStage-errorDetail">
          <span className="jp-SrcStage-errorDetailLabel">
            {error.service
              ? trans.__('SRCNet (%1) said:', error.service)
              : trans.__('SRCNet said:')}
          </span>
          {lines.length === 1 ? (
            <pre className="jp-SrcStage-detailText">{lines[0]}</pre>
          ) : (
            <ul className="jp-SrcStage-detailList">
              {lines.map((line, i) => (
                <li key={i}>
                  <pre className="jp-SrcStage-detailText">{line}</pre>
                </li>
              ))}
            </ul>
          )}
        </div>
      )}
      {props.children}
    </div>
  );
}

export interface IButtonProps extends React.ButtonHTMLAttributes<HTMLButtonElement> {
  icon?: LabIcon;
  /** Visual weight: a primary action, a normal one, or an icon only. */
  kind?: 'primary' | 'normal' | 'danger' | 'icon';
  testid?: string;
}

/** A real `<button>`, themed with JupyterLab variables. */
export function Button(props: IButtonProps): JSX.Element {
  const { icon, kind = 'normal', testid, className, children, ...rest } = props;
  return (
    <button
      type="button"
      className={`jp-SrcStage-button jp-SrcStage-button-${kind}${className ? ` ${className}` : ''}`}
      data-testid={testid}
      title={rest.title ?? rest['aria-label']}
      {...rest}
    >
      {icon && <icon.react tag="span" className="jp-SrcStage-buttonIcon" />}
      {children && <span className="jp-SrcStage-buttonLabel">{children}</span>}
    </button>
  );
}

/** A polite line saying something is loading. */
export function Loading(props: { children?: React.ReactNode }): JSX.Element {
  return (
    <div className="jp-SrcStage-loading" role="status" aria-live="polite">
      <span className="jp-SrcStage-spinner" aria-hidden="true" />
      {props.children ?? trans.__('Loading…')}
    </div>
  );
}

/** A line saying there is nothing (yet). */
export function Empty(props: {
  children?: React.ReactNode;
  testid?: string;
}): JSX.Element {
  return (
    <div className="jp-SrcStage-empty" data-testid={props.testid}>
      {props.children}
    </div>
  );
}

/** Run an action, turning a thrown error into state for an `ErrorBox`. */
export function useAction(): [
  SrcStageError | null,
  (fn: () => Promise<unknown>) => Promise<boolean>,
  () => void
] {
  const [error, setError] = React.useState<SrcStageError | null>(null);
  const mounted = React.useRef(true);
  React.useEffect(
    () => () => {
      mounted.current = false;
    },
    []
  );
  const run = React.useCallback(async (fn: () => Promise<unknown>) => {
    setError(null);
    try {
      await fn();
      return true;
    } catch (e) {
      if (mounted.current) {
        setError(
          e instanceof SrcStageError
            ? e
            : new SrcStageError({
                message:
                  e instanceof Error && e.message
                    ? e.message
                    : trans.__('Something unexpected went wrong.'),
                code: 'error'
              })
        );
      }
      return false;
    }
  }, []);
  return [error, run, () => setError(null)];
}

/** An error that only says nobody is signed in to SRCNet (yet). */
export function isNotSignedIn(
  error: SrcStageError | null | undefined
): boolean {
  return error?.code === 'not_signed_in';
}

// One canvas to measure text with, and one observer for all middle-cut texts.
let measureContext: CanvasRenderingContext2D | null | undefined;
const resizeCallbacks = new WeakMap<Element, () => void>();
let resizeObserver: ResizeObserver | null | undefined;

function textMeasurer(el: Element): ((s: string) => number) | null {
  if (measureContext === undefined) {
    measureContext = null;
    try {
      measureContext = document.createElement('canvas').getContext('2d');
    } catch {
      measureContext = null;
    }
  }
  const ctx = measureContext;
  if (!ctx) {
    return null;
  }
  const style = window.getComputedStyle(el);
  const font =
    style.font ||
    `${style.fontStyle} ${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
  return (s: string) => {
    ctx.font = font;
    return ctx.measureText(s).width;
  };
}

function observeResize(el: Element, callback: () => void): () => void {
  if (resizeObserver === undefined) {
    resizeObserver =
      typeof ResizeObserver === 'undefined'
        ? null
        : new ResizeObserver(entries => {
            for (const entry of entries) {
              resizeCallbacks.get(entry.target)?.();
            }
          });
  }
  if (!resizeObserver) {
    return () => undefined;
  }
  resizeCallbacks.set(el, callback);
  resizeObserver.observe(el);
  return () => {
    resizeCallbacks.delete(el);
    resizeObserver?.unobserve(el);
  };
}

export interface IMiddleTextProps {
  text: string;
  /** The tooltip; the text itself by default (e.g. the full DID for a name). */
  title?: string;
  /** A leading part shown dimmed, e.g. the namespace of a DID (`ska-mid:`). */
  dimPrefix?: string;
  /** How much of what is kept comes from the end (0..1). */
  tailShare?: number;
  /** Where what tells this text apart from its neighbours starts: kept first. */
  keepFrom?: number;
  className?: string;
}

/**
 * A one-line text cut in the middle to fit its box, so that the distinctive
 * end stays visible (`obs-2…0001.vis-03.csv`); the full text is the tooltip
 * and what screen readers read. The box takes the free width of its line
 * (a flex item growing from 0, or a block).
 */
export function MiddleText(props: IMiddleTextProps): JSX.Element {
  const { text, dimPrefix, tailShare, keepFrom = 0 } = props;
  const ref = React.useRef<HTMLSpanElement>(null);
  const [cut, setCut] = React.useState<IMiddleCut>({
    head: text,
    tail: '',
    cut: false
  });

  const fit = React.useCallback(() => {
    const el = ref.current;
    if (!el) {
      return;
    }
    const width = el.getBoundingClientRect().width;
    const measure = width > 0 ? textMeasurer(el) : null;
    const next = measure
      ? distinctCut(text, keepFrom, s => measure(s) <= width - 1, tailShare)
      : { head: text, tail: '', cut: false };
    setCut(prev =>
      prev.head === next.head &&
      prev.tail === next.tail &&
      prev.cut === next.cut
        ? prev
        : next
    );
  }, [text, tailShare, keepFrom]);

  React.useLayoutEffect(() => {
    fit();
  }, [fit]);

  React.useEffect(() => {
    const el = ref.current;
    return el ? observeResize(el, fit) : undefined;
  }, [fit]);

  const headDim = dimPrefix
    ? cut.head.slice(0, Math.min(dimPrefix.length, cut.head.length))
    : '';
  const headRest = cut.head.slice(headDim.length);
  return (
    <span
      ref={ref}
      className={`jp-SrcStage-middle${props.className ? ` ${props.className}` : ''}`}
      title={props.title ?? text}
    >
      <span aria-hidden="true">
        {headDim && <span className="jp-SrcStage-dim">{headDim}</span>}
        {headRest}
        {cut.cut && <span className="jp-SrcStage-middleCut">{ELLIPSIS}</span>}
        {cut.tail}
      </span>
      <span className="jp-SrcStage-srOnly">{text}</span>
    </span>
  );
}

/** A path (or DID) that may break after `/` (or the given separators), not mid-word. */
export function BreakableText(props: {
  text: string;
  separators?: string;
}): JSX.Element {
  const parts = breakParts(props.text, props.separators);
  return (
    <>
      {parts.map((part, i) => (
        <React.Fragment key={i}>
          {i > 0 && <wbr />}
          <span className="jp-SrcStage-breakPart">{part}</span>
        </React.Fragment>
      ))}
    </>
  );
}

/** A job id shortened to 8 characters; the whole id is the tooltip. */
export function ShortId(props: { id: string }): JSX.Element {
  return (
    <code className="jp-SrcStage-shortId" title={props.id}>
      {shortId(props.id)}
    </code>
  );
}

/**
 * Move the keyboard focus to the element matching `selector` once React has
 * rendered it (after a dialog closes, focus would otherwise fall to the body).
 */
export function focusSoon(selector: string, tries = 20): void {
  const attempt = (left: number) => {
    const el = document.querySelector<HTMLElement>(selector);
    if (el) {
      el.focus();
      // A closing dialog or a re-render right after can drop focus to the page body: for a
      // moment, put it back (only from the body, never away from where the user went).
      for (const ms of [100, 300, 600]) {
        setTimeout(() => {
          const now = document.querySelector<HTMLElement>(selector);
          const active = document.activeElement;
          if (now && (!active || active === document.body)) {
            now.focus();
          }
        }, ms);
      }
    } else if (left > 0) {
      setTimeout(() => attempt(left - 1), 50);
    }
  };
  setTimeout(() => attempt(tries), 0);
}

export function Progress(props: {
  /** What the bar counts, for a screen reader (default: "<label> staged"). */
  what?: string;
  label: string;
  done?: number | null;
  total?: number | null;
  format: (n: number | null | undefined) => string;
  testid: string;
  /** The DM has not counted the job's files yet (a total of 0 while active). */
  waiting?: boolean;
}): JSX.Element | null {
  const { done, total } = props;
  if (props.waiting) {
    return (
      <div
        className="jp-SrcStage-progress jp-SrcStage-dim"
        data-testid={props.testid}
      >
        <span className="jp-SrcStage-progressLabel">{props.label}</span>
        <span className="jp-SrcStage-progressText">
          {trans.__('waiting for SRCNet to list the files')}
        </span>
      </div>
    );
  }
  if (
    (done === null || done === undefined) &&
    (total === null || total === undefined)
  ) {
    return null;
  }
  const f = fraction(done, total);
  const percent = f === null ? null : Math.round(f * 100);
  const text = trans.__(
    '%1 of %2',
    props.format(done ?? 0),
    props.format(total)
  );
  return (
    <div className="jp-SrcStage-progress" data-testid={props.testid}>
      <span className="jp-SrcStage-progressLabel">{props.label}</span>
      <div
        className="jp-SrcStage-progressBar"
        role="progressbar"
        aria-label={props.what ?? trans.__('%1 staged', props.label)}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={percent ?? undefined}
        aria-valuetext={text}
      >
        <div
          className="jp-SrcStage-progressFill"
          style={{ width: `${percent ?? 0}%` }}
        />
      </div>
      <span className="jp-SrcStage-progressText">{text}</span>
    </div>
  );
}

/** A pre-check problem: our message, then SRCNet's detail lines verbatim. */
export function ProblemText(props: {
  problem: { message: string; detail?: unknown };
}): JSX.Element {
  return (
    <>
      {props.problem.message}
      {detailLines(props.problem.detail).map((line, j) => (
        <pre key={j} className="jp-SrcStage-detailText">
          {line}
        </pre>
      ))}
    </>
  );
}
