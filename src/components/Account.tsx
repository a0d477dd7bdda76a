import { Clipboard } from '@jupyterlab/apputils';
import { copyIcon, launchIcon, refreshIcon } from '@jupyterlab/ui-components';
import * as React from 'react';
import { SrcStageError } from '../api';
import type { SrcStageModel } from '../model';
import { formatDate } from '../units';
import { Button, ErrorBox, Loading, Section, useModel } from './common';
import { trans } from '../i18n';

/** How this server holds the user's token, as shown under the name. */
function sourceText(source: string): string {
  const sources: Record<string, string> = {
    environment: trans.__('token from the environment'),
    file: trans.__('token file'),
    device: trans.__('signed in here')
  };
  return sources[source] ?? source;
}

/** Who is signed in to SRCNet; the device flow when nobody is. */
export function AccountSection(props: { model: SrcStageModel }): JSX.Element {
  const { model } = props;
  useModel(model, ['session', 'busy']);
  const session = model.session;
  const state = session?.state;
  const badge =
    state === 'signed_in'
      ? trans.__('signed in')
      : state === 'pending'
        ? trans.__('waiting…')
        : state === 'signed_out'
          ? trans.__('signed out')
          : state === 'error'
            ? trans.__('failed')
            : undefined;
  return (
    <Section
      id="account"
      title={trans.__('SRCNet account')}
      badge={badge}
      badgeWhenOpen={false}
      tools={
        <Button
          kind="icon"
          icon={refreshIcon}
          aria-label={trans.__('Refresh sign-in state')}
          onClick={() => void model.refreshSession()}
        />
      }
    >
      <div data-testid="srcstage-session" data-state={state ?? 'loading'}>
        <AccountBody model={model} />
      </div>
    </Section>
  );
}

function AccountBody(props: { model: SrcStageModel }): JSX.Element {
  const { model } = props;
  const session = model.session;
  const busy = model.isBusy('signin') || model.isBusy('signout');
  if (!session) {
    return model.sessionError ? (
      <ErrorBox
        error={model.sessionError}
        title={trans.__('Cannot tell who is signed in')}
      >
        <Button onClick={() => void model.refreshSession()}>
          {trans.__('Try again')}
        </Button>
      </ErrorBox>
    ) : (
      <Loading>{trans.__('Checking who is signed in…')}</Loading>
    );
  }
  const requestError = model.sessionError;
  switch (session.state) {
    case 'signed_in': {
      const user = session.user;
      const who = user?.name || user?.username || trans.__('an SRCNet user');
      return (
        <div className="jp-SrcStage-account">
          <div className="jp-SrcStage-accountWho">
            {trans.__('Signed in as')}{' '}
            <strong data-testid="srcstage-username">{who}</strong>
            {user?.name && user?.username && user.name !== user.username && (
              <span className="jp-SrcStage-dim"> ({user.username})</span>
            )}
          </div>
          {session.source === 'jupyterhub' ? (
            <div className="jp-SrcStage-dim" data-testid="srcstage-hub">
              {trans.__('signed in through %1', session.hub || 'JupyterHub')}
            </div>
          ) : (
            session.source && (
              <div className="jp-SrcStage-dim">
                {sourceText(session.source)}
              </div>
            )
          )}
          <ErrorBox
            error={requestError}
            title={trans.__('Could not sign out')}
          />
          {session.source !== 'jupyterhub' && (
            <div className="jp-SrcStage-actions">
              <Button
                testid="srcstage-signout"
                disabled={busy}
                onClick={() => void model.signOut()}
              >
                {trans.__('Sign out')}
              </Button>
            </div>
          )}
        </div>
      );
    }
    case 'pending':
      return <DeviceFlow model={model} />;
    case 'error':
    case 'signed_out':
    default: {
      const failure = session.error ? new SrcStageError(session.error) : null;
      return (
        <div className="jp-SrcStage-account">
          <ErrorBox
            error={failure}
            title={trans.__('Sign-in failed')}
            testid="srcstage-signin-error"
          />
          <ErrorBox
            error={requestError}
            title={trans.__('Could not start sign-in')}
          />
          <p className="jp-SrcStage-dim">
            {trans.__(
              'Not signed in. Sign in to SRCNet to search data and stage it next to this server.'
            )}
          </p>
          {session.device_flow === false ? (
            <p
              className="jp-SrcStage-hint"
              data-testid="srcstage-no-device-flow"
            >
              {trans.__(
                'Signing in from here is turned off on this server; ask your administrator how it receives your SRCNet token.'
              )}
            </p>
          ) : (
            <div className="jp-SrcStage-actions">
              <Button
                kind="primary"
                testid="srcstage-signin"
                disabled={busy}
                onClick={() => void model.signIn()}
              >
                {busy
                  ? trans.__('Starting…')
                  : failure
                    ? trans.__('Try again')
                    : trans.__('Sign in')}
              </Button>
            </div>
          )}
        </div>
      );
    }
  }
}

function DeviceFlow(props: { model: SrcStageModel }): JSX.Element {
  const { model } = props;
  const device = model.session?.device;
  if (!device) {
    return (
      <Loading>{trans.__('Waiting for SRCNet to start the sign-in…')}</Loading>
    );
  }
  const link = device.verification_uri_complete || device.verification_uri;
  return (
    <div className="jp-SrcStage-device" data-testid="srcstage-device">
      <ol className="jp-SrcStage-steps">
        <li>
          {trans.__('Open')}{' '}
          <a
            href={link}
            target="_blank"
            rel="noopener noreferrer"
            className="jp-SrcStage-link"
            data-testid="srcstage-verification-link"
          >
            {device.verification_uri}
            <launchIcon.react tag="span" className="jp-SrcStage-inlineIcon" />
          </a>{' '}
          {trans.__('(a new tab).')}
        </li>
        <li>
          {trans.__('Enter this code:')}
          <div className="jp-SrcStage-userCode">
            <code data-testid="srcstage-user-code">{device.user_code}</code>
            <Button
              kind="icon"
              icon={copyIcon}
              aria-label={trans.__('Copy the code')}
              onClick={() => Clipboard.copyToSystem(device.user_code)}
            />
          </div>
        </li>
        <li>{trans.__('Approve the access; this panel notices by itself.')}</li>
      </ol>
      <Loading>
        {device.expires_at
          ? trans.__(
              'Waiting for your approval (the code expires %1)…',
              formatDate(device.expires_at)
            )
          : trans.__('Waiting for your approval…')}
      </Loading>
      <div className="jp-SrcStage-actions">
        <Button
          testid="srcstage-signin-cancel"
          onClick={() => void model.signOut()}
        >
          {trans.__('Cancel')}
        </Button>
      </div>
    </div>
  );
}
