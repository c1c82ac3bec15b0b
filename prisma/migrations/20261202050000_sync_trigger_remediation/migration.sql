-- The sync Keyward queues after carrying out a review decision, told apart from one a person asked for.
ALTER TYPE "SyncTrigger" ADD VALUE 'remediation';
