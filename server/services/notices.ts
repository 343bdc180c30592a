/** Messages the control plane sends people (access requests, decisions, risk alerts); email when SMTP is set. */
export interface Notice {
  to: string[];
  subject: string;
  text: string;
}

/** Sends a notice without waiting: a slow or failing mail server must not delay or fail what caused it. */
export type Notifier = (notice: Notice) => void;
