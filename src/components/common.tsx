import { LabIcon } from '@jupyterlab/ui-components';
import * as React from 'react';
import { SrcStageError } from '../api';
import type { ChangeKind, SrcStageModel } from '../model';

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
          {props.badge !== undefined && props.badge !== null && (
            <span className="jp-SrcStage-sectionBadge">{props.badge}</span>
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
            {error.service ? `SRCNet (${error.service}) said:` : 'SRCNet said:'}
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
      {props.children ?? 'Loading…'}
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
                    : 'Something unexpected went wrong.',
                code: 'error'
              })
        );
      }
      return false;
    }
  }, []);
  return [error, run, () => setError(null)];
}

/**
 * A name cut in the middle when too long, so the distinctive end stays
 * visible (`obs_2026_00…0042.ms.tar`); the full text is the tooltip.
 */
export function MiddleText(props: {
  text: string;
  tail?: number;
  className?: string;
}): JSX.Element {
  const tail = props.tail ?? 12;
  const { text } = props;
  const cut = text.length > tail + 4;
  return (
    <span
      className={`jp-SrcStage-middle${props.className ? ` ${props.className}` : ''}`}
      title={text}
    >
      <span className="jp-SrcStage-middleHead">
        {cut ? text.slice(0, text.length - tail) : text}
      </span>
      {cut && (
        <span className="jp-SrcStage-middleTail">
          {text.slice(text.length - tail)}
        </span>
      )}
    </span>
  );
}
