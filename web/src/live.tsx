import { createContext } from 'preact';
import { useContext, useEffect, useRef, useState } from 'preact/hooks';
import {
  createLiveClient,
  type LiveClient,
  type LiveNotice,
  type LiveStatus,
} from '../../lib/client/live-client';
import type { PresenceState, Present, Resource, Topic } from '../../lib/live/protocol';
import { type AppConfig, storedSession } from './session';

/**
 * The live channel in the web app: one socket per signed-in tab, from which open records and
 * lists hear their changes, locks and who else has them open. While it is up nothing polls;
 * while it is down (or off: `?live=0`) polling carries on as before, and when it comes back
 * every page reads afresh what it shows.
 */

/** Where the live channel is: the stack's `LiveUrl`; locally `/live` on this page's host. */
export const liveUrlOf = (config: AppConfig): string | undefined =>
  config.liveUrl ??
  (config.mode === 'local'
    ? `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/live`
    : undefined);

export const LiveContext = createContext<LiveClient | undefined>(undefined);

/** This tab's live client for the signed-in user, while signed in; none when it is off. */
export const useLiveClient = (config: AppConfig, sub: string | undefined): LiveClient | undefined => {
  const [client, setClient] = useState<LiveClient>();
  useEffect(() => {
    const url = liveUrlOf(config);
    if (!sub || !url || new URLSearchParams(location.search).get('live') === '0') return;
    const created = createLiveClient({ url, token: () => storedSession()?.token });
    setClient(created);
    // Back in the window, or back on the network: no waiting for the next retry.
    const now = () => created.reconnectNow();
    addEventListener('focus', now);
    addEventListener('online', now);
    return () => {
      removeEventListener('focus', now);
      removeEventListener('online', now);
      created.close();
      setClient(undefined);
    };
  }, [config, sub]);
  return client;
};

/** `live` while pushed changes arrive, `down` while the channel is away, `off` when there is none. */
export const useLiveStatus = (): LiveStatus | 'off' => {
  const client = useContext(LiveContext);
  const [status, setStatus] = useState<LiveStatus | 'off'>(client?.status() ?? 'off');
  useEffect(() => {
    setStatus(client?.status() ?? 'off');
    return client?.onStatus(setStatus);
  }, [client]);
  return status;
};

/** Hears a topic while the component shows it (none: hears nothing). */
export const useLiveTopic = (topic: Topic | undefined, listener: (notice: LiveNotice) => void): void => {
  const client = useContext(LiveContext);
  const latest = useRef(listener);
  latest.current = listener;
  useEffect(() => {
    if (!client || !topic) return;
    return client.watch(topic, (notice) => latest.current(notice));
  }, [client, topic]);
};

/** Says this tab has the record open, `editing` while it holds unsaved changes; gone when the page goes. */
export const usePresence = (resource: Resource, id: string, state: PresenceState): void => {
  const client = useContext(LiveContext);
  const leave = useRef<(() => void) | undefined>(undefined);
  useEffect(() => {
    if (!client) return;
    leave.current = client.present(resource, id, state);
  }, [client, resource, id, state]);
  useEffect(
    () => () => {
      leave.current?.();
      leave.current = undefined;
    },
    [client, resource, id],
  );
};

/** Who else has something open, as a sentence: "bob is editing, carol is viewing". */
export const peopleText = (people: readonly Present[]): string =>
  people.map((person) => `${person.sub} is ${person.state}`).join(', ');

/** Who else has this record open, and who of them is editing it. */
export const PresenceNote = ({ people }: { people: readonly Present[] }) =>
  people.length > 0 ? (
    <p class="presence" role="status">
      Also here: {peopleText(people)}
    </p>
  ) : null;

/** The channel's state in the header: "Live", or that the app is checking every few seconds meanwhile. */
export const LiveIndicator = ({ pollMs }: { pollMs: number }) => {
  const status = useLiveStatus();
  if (status === 'off') return null;
  return (
    <span class={`live-status ${status}`} role="status" data-status={status}>
      {status === 'live'
        ? 'Live'
        : `Reconnecting… (checking every ${pollMs >= 1000 ? `${Math.round(pollMs / 1000)} s` : `${pollMs} ms`})`}
    </span>
  );
};
